"""Fixtures shared by the log library's integration tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.fakes.s3 import MotoS3, moto_s3


@pytest.fixture(scope="session")
def s3() -> Iterator[MotoS3]:
    """One moto S3 server per run: moto keeps IAM users process-wide, so a second server would clash."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with moto_s3() as server:
        yield server
