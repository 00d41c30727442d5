"""setup_logging(s3_bucket=...) ships rotated files to a real S3-protocol server (moto) in the background."""

from __future__ import annotations

import gzip
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from agent_tui.log import ObservabilityConfig, rotated_siblings, setup_logging
from agent_tui.log.s3 import S3Credentials
from agent_tui.log.setup import _Shipper
from tests.fakes.s3 import MotoS3


@pytest.fixture(autouse=True)
def _restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    _Shipper.replace(None)
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def _wait_for(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met before the deadline")


def test_rotated_files_reach_the_bucket(s3: MotoS3, tmp_path: Path) -> None:
    """Lines logged through setup_logging end up, rotated and gzipped, as objects in the bucket."""
    bucket = s3.new_bucket()
    config = ObservabilityConfig(
        "s3-agent",
        "svc",
        log_dir=str(tmp_path),
        console=False,
        max_bytes=2000,
        backup_count=100,
        s3_bucket=bucket,
        s3_endpoint_url=s3.endpoint,
        s3_interval=0.1,
        s3_options={
            "credentials": S3Credentials(s3.access_key_id, s3.secret_access_key),
            "settle_seconds": 0.0,
        },
    )
    log = setup_logging(config)
    for i in range(60):
        log.info("tick", extra={"i": i, "pad": "x" * 40})
    live_path = tmp_path / "s3-agent.jsonl"

    def ticks() -> list[int]:
        objects = s3.objects(bucket).values()
        shipped = [line for data in objects for line in gzip.decompress(data).splitlines()]
        records = [orjson.loads(line) for line in shipped + live_path.read_bytes().splitlines()]
        return sorted(r["i"] for r in records if r["event"] == "tick")

    _wait_for(lambda: not rotated_siblings(str(live_path)) and ticks() == list(range(60)))
    assert ticks() == list(range(60)), "a line was lost or shipped twice"
    assert all(key.startswith("logs/s3-agent/") for key in s3.objects(bucket))


def test_s3_needs_a_log_file(tmp_path: Path) -> None:
    """Asking for S3 shipping without a file to rotate is a clear configuration error."""
    with pytest.raises(ValueError, match="log_dir or log_file"):
        setup_logging(ObservabilityConfig("a", "svc", console=False, s3_bucket="b"))
