"""``S3Uploader``: ship rotated files round by round, in the caller's thread or a daemon thread."""

from __future__ import annotations

import contextlib
import os
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from agent_tui.log.s3.outbox import OUTBOX_DIR, claim, digests, flock, key_for, staged
from agent_tui.log.s3.put import S3Bucket
from agent_tui.log.s3.sigv4 import S3Credentials, S3UploadError

__all__ = ["S3Uploader", "UploadResult", "UploaderStats"]


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
        self.remote = S3Bucket(
            bucket,
            endpoint_url=endpoint_url,
            region=region,
            credentials=credentials,
            addressing_style=addressing_style,
            clock=clock,
            max_attempts=max_attempts,
            backoff=backoff,
            timeout=timeout,
            ssl_context=ssl_context,
        )
        self.bucket = bucket
        self.region = self.remote.region
        self.credentials = self.remote.credentials
        self.prefix = prefix.strip("/")
        self.clock = clock
        self.delete_after_upload = delete_after_upload
        self.settle_seconds = settle_seconds
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
        return self.remote.url_for(key)

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
        with self._lock, flock(os.path.join(outbox, f"{agent_id}.lock")):
            self._counts[3] += 1
            claim(log_dir, outbox, agent_id, now=self.clock(), settle_seconds=self.settle_seconds)
            results: list[UploadResult] = []
            for path in staged(outbox, agent_id):
                result = self._ship_one(path, agent_id)
                results.append(result)
                if not result.ok:
                    break
            return results

    def _ship_one(self, path: str, agent_id: str) -> UploadResult:
        key, size = "", 0
        try:
            sha256, md5, size = digests(path)
            key = key_for(path, self.prefix, agent_id, sha256)
            etag = self.put_file(path, key, sha256=sha256, content_md5=md5, size=size)
        except (S3UploadError, OSError) as exc:
            self._counts[1] += 1
            return UploadResult(path, key, size, error=str(exc))
        with contextlib.suppress(FileNotFoundError):
            if self.delete_after_upload:
                os.unlink(path)
            else:
                sent = os.path.join(os.path.dirname(path), "sent")
                os.makedirs(sent, exist_ok=True)
                os.replace(path, os.path.join(sent, os.path.basename(key)))
        self._counts[0] += 1
        self._counts[2] += size
        return UploadResult(path, key, size, etag)

    def put_file(self, path: str, key: str, *, sha256: str, content_md5: str, size: int) -> str | None:
        """PUT one file (streamed) with retries; returns the verified ETag.

        Raises:
            S3UploadError: on a 4xx other than 429, or when retries are exhausted (5xx, 429, network
                errors, or an ETag that is not the MD5 of what was sent).
        """
        return self.remote.put_file(
            path, key, sha256=sha256, content_md5=content_md5, size=size, stop=self._stop
        )

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
