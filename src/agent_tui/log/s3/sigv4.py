"""AWS Signature V4 with the stdlib ``hmac``, the credentials it signs with, and the upload error type."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["S3Credentials", "S3UploadError", "sigv4_authorization"]


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
