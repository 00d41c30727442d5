"""``S3Uploader``: ship rotated ``{agent_id}.jsonl.N`` files, gzipped, to S3/R2/MinIO with stdlib SigV4."""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import hmac
import http.client
import os
import random
import re
import shutil
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote, urlsplit

from agent_tui.log.rotation import rotated_siblings

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "OUTBOX_DIR",
    "S3Credentials",
    "S3UploadError",
    "S3Uploader",
    "UploadResult",
    "UploaderStats",
    "sigv4_authorization",
]

OUTBOX_DIR: Final = ".s3-outbox"
"""Sub-directory of the log directory where claimed files wait, gzipped, until they are uploaded."""

_RETRIABLE: Final = frozenset({429, 500, 502, 503, 504})
_CHUNK: Final = 1 << 16
_STAMP = "%Y%m%dT%H%M%S"


class S3UploadError(RuntimeError):
    """An upload that failed for good (a 4xx, or retries exhausted); ``status`` is 0 for network errors."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class S3Credentials:
    """An access key pair plus the optional session token of temporary credentials."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> S3Credentials:
        """Read ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``.

        Raises:
            S3UploadError: when the key id or secret is missing.
        """
        env = os.environ if env is None else env
        key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            raise S3UploadError("no S3 credentials: pass them or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
        return cls(key, secret, env.get("AWS_SESSION_TOKEN") or None)


@dataclass(frozen=True, slots=True)
class UploadResult:
    """One rotated file's fate: ``error`` is None when it was uploaded, verified and deleted locally."""

    source: str
    key: str
    size: int
    etag: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the object landed and the local file was removed."""
        return self.error is None


@dataclass(frozen=True, slots=True)
class UploaderStats:
    """Counters of an :class:`S3Uploader` since it was created."""

    uploaded: int
    failed: int
    bytes_uploaded: int
    rounds: int


def _stamped(agent_id: str, micros: int) -> str:
    """``{agent_id}.jsonl.YYYYmmddTHHMMSS.ffffffZ`` for a UTC time in microseconds."""
    at = datetime.fromtimestamp(micros // 1_000_000, UTC)
    return f"{agent_id}.jsonl.{at.strftime(_STAMP)}.{micros % 1_000_000:06d}Z"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4_authorization(
    method: str,
    path: str,
    *,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_sha256: str,
    credentials: S3Credentials,
    region: str,
    service: str = "s3",
) -> str:
    """The AWS Signature V4 ``Authorization`` header value for a request.

    Args:
        method: HTTP method.
        path: the already URI-encoded request path (S3 does not encode it twice).
        query: query parameters (unencoded).
        headers: every header to sign; must include ``host`` and ``x-amz-date`` (``YYYYMMDDTHHMMSSZ``).
        payload_sha256: hex sha256 of the body, or ``UNSIGNED-PAYLOAD``.
        credentials: key id and secret.
        region: signing region (``us-east-1``, ``auto`` for R2 …).
        service: signing service name.
    """
    canon = {k.lower().strip(): " ".join(str(v).split()) for k, v in headers.items()}
    amz_date = canon["x-amz-date"]
    signed = ";".join(sorted(canon))
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items())
    )
    canonical_request = "\n".join(
        [
            method,
            path or "/",
            canonical_query,
            "".join(f"{k}:{canon[k]}\n" for k in sorted(canon)),
            signed,
            payload_sha256,
        ]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(("AWS4" + credentials.secret_access_key).encode(), amz_date[:8])
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )


def _digests(path: str) -> tuple[str, str, int]:
    """Hex sha256, base64 MD5 and size of a file, read in chunks."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), base64.b64encode(md5.digest()).decode(), size


def _gzip(src: str, dst: str) -> None:
    """Compress ``src`` to ``dst`` atomically; same input, same bytes (name and mtime from ``src``)."""
    mtime = int(os.stat(src).st_mtime)
    with open(src, "rb") as f_in, open(dst + ".tmp", "wb") as raw:
        with gzip.GzipFile(os.path.basename(src), "wb", 6, raw, mtime) as f_out:
            shutil.copyfileobj(f_in, f_out, 1 << 20)
        # The plain source is unlinked next; the copy must be on disk first.
        os.fsync(raw.fileno())
    os.replace(dst + ".tmp", dst)


def _error_text(status: int, reason: str, body: bytes) -> str:
    text = body[:4096].decode("utf-8", "replace")
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    detail = " ".join(m.group(1) for m in (code, message) if m) or reason
    return f"{status} {detail}"


@contextlib.contextmanager
def _flock(path: str) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class S3Uploader:
    """Upload rotated log files to an S3-compatible bucket, deleting them only once the upload is verified.

    Files are first *claimed* under the rotation lock (moved into ``{log_dir}/.s3-outbox/`` with a name
    stamped from their last write time), so a writer rotating at the same time can neither renumber nor
    delete them; a claimed file stays in the outbox until an upload succeeds. Keys are
    ``{prefix}/{agent_id}/{YYYY-MM-DD}/{agent_id}.jsonl.{stamp}-{sha256[:12]}.gz`` (UTC date and time of
    the file's last write, hash of the gzip bytes): unique per rotated file, and a re-upload after a crash
    overwrites the same object with the same bytes.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        prefix: str = "logs",
        credentials: S3Credentials | None = None,
        addressing_style: str = "auto",
        clock: Callable[[], float] = time.time,
        delete_after_upload: bool = True,
        settle_seconds: float = 2.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Configure the target; nothing is contacted until :meth:`ship_rotated`.

        Args:
            bucket: bucket name.
            endpoint_url: ``http(s)://host[:port]`` of MinIO/R2/…; default ``AWS_ENDPOINT_URL_S3``,
                ``AWS_ENDPOINT_URL``, then AWS's regional endpoint.
            region: signing region; default ``AWS_REGION``, ``AWS_DEFAULT_REGION``, then ``us-east-1``.
            prefix: key prefix.
            credentials: default :meth:`S3Credentials.from_env`.
            addressing_style: ``path``, ``virtual`` (bucket in the host name) or ``auto`` (virtual on
                AWS for DNS-safe names, path on custom endpoints).
            clock: wall clock (epoch seconds) used for request dates and the settle check.
            delete_after_upload: remove the local file once its upload is verified.
            settle_seconds: leave an uncompressed rotated file alone until it has been unmodified this
                long, so another process still appending to it (before noticing the rotation) finishes.
            max_attempts: tries per file on 429/5xx/network errors (4xx other than 429 fail at once).
            backoff: first retry delay in seconds; doubles each retry, with jitter, capped at 30 s.
            timeout: socket timeout per request.
            ssl_context: for HTTPS endpoints (custom CA, …); default verifies certificates.
        """
        env = os.environ
        self.bucket = bucket
        self.region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        endpoint = endpoint_url or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        custom = endpoint is not None
        parts = urlsplit(endpoint or f"https://s3.{self.region}.amazonaws.com")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"endpoint_url must be http(s)://host[:port], got {endpoint!r}")
        if addressing_style not in ("auto", "path", "virtual"):
            raise ValueError(f"addressing_style must be auto, path or virtual, got {addressing_style!r}")
        virtual = addressing_style == "virtual" or (
            addressing_style == "auto"
            and not custom
            and re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", bucket)
        )
        self._https = parts.scheme == "https"
        self._host = f"{bucket}.{parts.netloc}" if virtual else parts.netloc
        self._base_path = parts.path.rstrip("/") + ("" if virtual else "/" + quote(bucket, safe=""))
        self.prefix = prefix.strip("/")
        self.credentials = credentials or S3Credentials.from_env()
        self.clock = clock
        self.delete_after_upload = delete_after_upload
        self.settle_seconds = settle_seconds
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.timeout = timeout
        self._ssl = ssl_context or (ssl.create_default_context() if self._https else None)
        self._lock = threading.Lock()
        self._counts = [0, 0, 0, 0]  # uploaded, failed, bytes, rounds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned = False
        self._target = ("", "")
        self._thread_stop = threading.Event()

    @property
    def stats(self) -> UploaderStats:
        """A snapshot of the counters."""
        return UploaderStats(*self._counts)

    def url_for(self, key: str) -> str:
        """The object URL a key is PUT to."""
        return f"{'https' if self._https else 'http'}://{self._host}{self._object_path(key)}"

    def _object_path(self, key: str) -> str:
        return f"{self._base_path}/{quote(key, safe='/-_.~')}"

    # -- claiming and preparing files -------------------------------------------------------------

    def ship_rotated(self, log_dir: str | os.PathLike[str], agent_id: str) -> list[UploadResult]:
        """Claim, gzip, upload and delete the rotated files of ``agent_id``; the live file is never touched.

        A round stops at the first file that fails for good (the rest wait for the next round);
        failed files stay in the outbox and are retried first next time.

        Returns:
            One result per file attempted, oldest first; check ``ok``/``error``.

        Raises:
            ValueError: for an ``agent_id`` that is not a plain file-name stem.
            OSError: when the log directory cannot be read or written (nothing is lost).
        """
        if not agent_id or agent_id.startswith(".") or "/" in agent_id or os.sep in agent_id:
            raise ValueError(f"agent_id must be a plain file-name stem, got {agent_id!r}")
        log_dir = os.fspath(log_dir)
        if not os.path.isdir(log_dir):
            return []
        outbox = os.path.join(log_dir, OUTBOX_DIR)
        os.makedirs(outbox, exist_ok=True)
        with self._lock, _flock(os.path.join(outbox, f"{agent_id}.lock")):
            self._counts[3] += 1
            self._claim(log_dir, outbox, agent_id)
            results: list[UploadResult] = []
            for staged in self._staged(outbox, agent_id):
                result = self._ship_one(staged, agent_id)
                results.append(result)
                if not result.ok:
                    break
            return results

    def _claim(self, log_dir: str, outbox: str, agent_id: str) -> None:
        """Move settled rotated files into the outbox under the writer's rotation lock."""
        live = os.path.join(log_dir, f"{agent_id}.jsonl")
        now = self.clock()
        with _flock(live + ".lock"):
            for path in rotated_siblings(live):
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue
                gz = path.endswith(".gz")
                if not gz and now - st.st_mtime < self.settle_seconds:
                    continue
                micros = st.st_mtime_ns // 1000
                # Bump past a name already taken (coarse mtimes) so outbox order stays rotation order.
                target = os.path.join(outbox, _stamped(agent_id, micros))
                while os.path.exists(target) or os.path.exists(target + ".gz"):
                    micros += 1
                    target = os.path.join(outbox, _stamped(agent_id, micros))
                os.rename(path, target + (".gz" if gz else ""))

    def _staged(self, outbox: str, agent_id: str) -> list[str]:
        """Outbox files of ``agent_id`` ready to upload (gzipping plain ones first), oldest first."""
        pattern = re.compile(re.escape(agent_id) + r"\.jsonl\.\d{8}T\d{6}\.\d{6}Z(\.gz)?")
        names = sorted(n for n in os.listdir(outbox) if pattern.fullmatch(n))
        ready: list[str] = []
        for name in names:
            path = os.path.join(outbox, name)
            if name.endswith(".gz"):
                if name[:-3] not in names:
                    ready.append(path)
                continue
            gz = path + ".gz"
            if not os.path.exists(gz):
                _gzip(path, gz)
            # A .gz next to its source is complete (os.replace is atomic); the source is now redundant.
            os.unlink(path)
            ready.append(gz)
        return ready

    # -- uploading --------------------------------------------------------------------------------

    def _key_for(self, staged: str, agent_id: str, sha256: str) -> str:
        """``{prefix}/{agent_id}/{day}/{stamped name}-{hash}.gz``; the hash keeps keys unique."""
        name = os.path.basename(staged).removesuffix(".gz")
        day = re.search(r"\.jsonl\.(\d{4})(\d{2})(\d{2})T", name)
        assert day is not None  # _staged only yields stamped names
        parts = [self.prefix, agent_id, "-".join(day.groups()), f"{name}-{sha256[:12]}.gz"]
        return "/".join(p for p in parts if p)

    def _ship_one(self, staged: str, agent_id: str) -> UploadResult:
        key, size = "", 0
        try:
            sha256, md5, size = _digests(staged)
            key = self._key_for(staged, agent_id, sha256)
            etag = self.put_file(staged, key, sha256=sha256, content_md5=md5, size=size)
        except (S3UploadError, OSError) as exc:
            self._counts[1] += 1
            return UploadResult(staged, key, size, error=str(exc))
        with contextlib.suppress(FileNotFoundError):
            if self.delete_after_upload:
                os.unlink(staged)
            else:
                sent = os.path.join(os.path.dirname(staged), "sent")
                os.makedirs(sent, exist_ok=True)
                os.replace(staged, os.path.join(sent, os.path.basename(key)))
        self._counts[0] += 1
        self._counts[2] += size
        return UploadResult(staged, key, size, etag)

    def put_file(self, path: str, key: str, *, sha256: str, content_md5: str, size: int) -> str | None:
        """PUT one file (streamed) with retries; returns the verified ETag.

        Raises:
            S3UploadError: on a 4xx other than 429, or when retries are exhausted (5xx, 429, network
                errors, or an ETag that is not the MD5 of what was sent).
        """
        for attempt in range(1, self.max_attempts + 1):
            try:
                status, reason, headers, body = self._put_once(path, key, sha256, content_md5, size)
            except (OSError, http.client.HTTPException) as exc:
                status, reason, headers, body = 0, f"{type(exc).__name__}: {exc}", {}, b""
            where = f"S3 PUT s3://{self.bucket}/{key} ({self._host})"
            if status == 200:
                etag = headers.get("etag", "").strip('"') or None
                expected = base64.b64decode(content_md5).hex()
                if not (etag and re.fullmatch(r"[0-9a-f]{32}", etag)) or etag == expected:
                    return etag
                # The object that landed is not what we sent (corrupted on the way): send it again.
                status, reason = 0, f"ETag {etag} does not match the MD5 {expected} sent"
            detail = _error_text(status, reason, body) if status else reason
            if status and status not in _RETRIABLE:
                raise S3UploadError(f"{where} failed: {detail}", status)
            if attempt == self.max_attempts:
                raise S3UploadError(f"{where} failed after {attempt} attempts: {detail}", status)
            if self._stop.wait(self._delay(attempt, headers.get("retry-after"))):
                raise S3UploadError(f"{where}: stopped while retrying: {detail}", status)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), 60.0)
        return min(30.0, self.backoff * 2.0 ** (attempt - 1)) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not secrecy

    def _put_once(
        self, path: str, key: str, sha256: str, content_md5: str, size: int
    ) -> tuple[int, str, dict[str, str], bytes]:
        amz_date = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y%m%dT%H%M%SZ")
        signed = {
            "host": self._host,
            "x-amz-date": amz_date,
            "x-amz-content-sha256": sha256,
            "content-md5": content_md5,
            "content-type": "application/gzip",
        }
        if self.credentials.session_token:
            signed["x-amz-security-token"] = self.credentials.session_token
        target = self._object_path(key)
        auth = sigv4_authorization(
            "PUT",
            target,
            query={},
            headers=signed,
            payload_sha256=sha256,
            credentials=self.credentials,
            region=self.region,
        )
        headers = {**signed, "authorization": auth, "content-length": str(size)}
        conn = self._connection()
        try:
            with open(path, "rb") as body:
                try:
                    conn.request("PUT", target, body=body, headers=headers)
                except OSError as exc:
                    # The server may answer (e.g. 403) and close before reading the whole body;
                    # its answer is the useful error, so read it when there is one.
                    try:
                        response = conn.getresponse()
                    except (OSError, http.client.HTTPException):
                        raise exc from None
                else:
                    response = conn.getresponse()
            data = response.read()
            found = {k.lower(): v for k, v in response.getheaders()}
            return response.status, response.reason, found, data
        finally:
            conn.close()

    def _connection(self) -> http.client.HTTPConnection:
        # http.client splits "host:port" (and "[v6]:port") itself.
        if self._https:
            return http.client.HTTPSConnection(
                self._host, timeout=self.timeout, context=self._ssl, blocksize=_CHUNK
            )
        return http.client.HTTPConnection(self._host, timeout=self.timeout, blocksize=_CHUNK)

    # -- background shipping ----------------------------------------------------------------------

    def start_periodic(self, log_dir: str | os.PathLike[str], agent_id: str, interval: float = 60.0) -> None:
        """Ship every ``interval`` seconds from a daemon thread that never raises into the agent."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._target = (os.fspath(log_dir), agent_id)
        self._thread_stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop,
            args=(*self._target, interval, self._thread_stop),
            name="agent-tui-s3",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0, *, final_round: bool = False) -> None:
        """Stop the background thread, cutting short its retry waits; optionally ship once more (here)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._thread_stop.set()
        self._stop.set()
        thread.join(timeout)
        self._stop = threading.Event()
        if final_round:
            self._round(*self._target)

    def _loop(self, log_dir: str, agent_id: str, interval: float, stop: threading.Event) -> None:
        while not stop.is_set():
            self._round(log_dir, agent_id)
            stop.wait(interval)

    def _round(self, log_dir: str, agent_id: str) -> None:
        try:
            results = self.ship_rotated(log_dir, agent_id)
            problem = next((r.error for r in results if r.error), None)
        except Exception as exc:  # never into the agent: this is a daemon thread
            self._counts[1] += 1
            problem = f"{type(exc).__name__}: {exc}"
        if problem and not self._warned:
            self._warned = True
            sys.stderr.write(
                f"agent_tui.log.s3: log upload failed, files kept for retry "
                f"(further failures are only counted): {problem}\n"
            )

    def __enter__(self) -> S3Uploader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
