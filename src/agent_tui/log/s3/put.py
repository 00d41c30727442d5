"""``S3Bucket``: where objects go (endpoint, addressing, signing region) and one streamed PUT with retries."""

from __future__ import annotations

import base64
import http.client
import os
import random
import re
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote, urlsplit

from agent_tui.log.s3.sigv4 import S3Credentials, S3UploadError, sigv4_authorization

__all__ = ["CHUNK", "S3Bucket"]

CHUNK: Final = 1 << 16
"""Bytes per read when hashing a file and per socket write when sending it."""

_RETRIABLE: Final = frozenset({429, 500, 502, 503, 504})


def _error_text(status: int, reason: str, body: bytes) -> str:
    text = body[:4096].decode("utf-8", "replace")
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    detail = " ".join(m.group(1) for m in (code, message) if m) or reason
    return f"{status} {detail}"


class S3Bucket:
    """An S3-compatible bucket that files are PUT into, signed with SigV4 and retried on 429/5xx."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: S3Credentials | None = None,
        addressing_style: str = "auto",
        clock: Callable[[], float] = time.time,
        max_attempts: int = 5,
        backoff: float = 0.5,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Resolve the endpoint and credentials; the arguments are those of :class:`S3Uploader`."""
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
        self.host = f"{bucket}.{parts.netloc}" if virtual else parts.netloc
        self._base_path = parts.path.rstrip("/") + ("" if virtual else "/" + quote(bucket, safe=""))
        self.credentials = credentials or S3Credentials.from_env()
        self.clock = clock
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.timeout = timeout
        self._ssl = ssl_context or (ssl.create_default_context() if self._https else None)

    def url_for(self, key: str) -> str:
        """The object URL a key is PUT to."""
        return f"{'https' if self._https else 'http'}://{self.host}{self._object_path(key)}"

    def _object_path(self, key: str) -> str:
        return f"{self._base_path}/{quote(key, safe='/-_.~')}"

    def put_file(
        self, path: str, key: str, *, sha256: str, content_md5: str, size: int, stop: threading.Event
    ) -> str | None:
        """PUT one file (streamed) with retries; returns the verified ETag. ``stop`` cuts a retry wait short.

        Raises:
            S3UploadError: on a 4xx other than 429, or when retries are exhausted (5xx, 429, network
                errors, or an ETag that is not the MD5 of what was sent), or when ``stop`` is set.
        """
        for attempt in range(1, self.max_attempts + 1):
            try:
                status, reason, headers, body = self._put_once(path, key, sha256, content_md5, size)
            except (OSError, http.client.HTTPException) as exc:
                status, reason, headers, body = 0, f"{type(exc).__name__}: {exc}", {}, b""
            where = f"S3 PUT s3://{self.bucket}/{key} ({self.host})"
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
            if stop.wait(self._delay(attempt, headers.get("retry-after"))):
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
            "host": self.host,
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
                self.host, timeout=self.timeout, context=self._ssl, blocksize=CHUNK
            )
        return http.client.HTTPConnection(self.host, timeout=self.timeout, blocksize=CHUNK)
