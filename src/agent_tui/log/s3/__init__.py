"""Ship rotated ``{agent_id}.jsonl.N`` files, gzipped, to S3/R2/MinIO with stdlib SigV4."""

from __future__ import annotations

from agent_tui.log.s3.outbox import OUTBOX_DIR
from agent_tui.log.s3.sigv4 import S3Credentials, S3UploadError, sigv4_authorization
from agent_tui.log.s3.uploader import S3Uploader, UploaderStats, UploadResult

__all__ = [
    "OUTBOX_DIR",
    "S3Credentials",
    "S3UploadError",
    "S3Uploader",
    "UploadResult",
    "UploaderStats",
    "sigv4_authorization",
]
