"""Directory discovery: which files are logs, which logical log they belong to, history order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_tui.sources.directory import classify, discover


@pytest.mark.parametrize(
    ("name", "logical", "number", "gz"),
    [
        ("agent.jsonl", "agent.jsonl", None, False),
        ("agent.jsonl.1", "agent.jsonl", 1, False),
        ("agent.jsonl.12.gz", "agent.jsonl", 12, True),
        ("agent.log.gz", "agent.log", None, True),
        ("app.2026.log", "app.2026.log", None, False),
        ("events.json", "events.json", None, False),
        ("dump.gz", "dump", None, True),
        ("dump.3.gz", "dump.3", None, True),
    ],
)
def test_classify(tmp_path: Path, name: str, logical: str, number: int | None, gz: bool) -> None:
    """Rotation numbers and .gz are stripped to find the logical log; other names are kept."""
    log = classify(str(tmp_path), str(tmp_path / name))
    assert log is not None
    assert (log.logical, log.number, log.gz) == (logical, number, gz)


@pytest.mark.parametrize("name", ["notes.txt", "agent.jsonl.bak", "core.1", "README"])
def test_non_logs_are_ignored(tmp_path: Path, name: str) -> None:
    """Files that are neither logs nor gzip archives are not read."""
    assert classify(str(tmp_path), str(tmp_path / name)) is None


def test_discover_orders_each_log_oldest_first(tmp_path: Path) -> None:
    """Within a logical log: highest number first (even past 9), unnumbered archive, then the live file."""
    names = ["a.jsonl", "a.jsonl.1", "a.jsonl.10.gz", "a.jsonl.2.gz", "a.jsonl.gz", "b/c.log", "b/c.log.1"]
    for name in names:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = [os.path.relpath(log.path, tmp_path) for log in discover(str(tmp_path))]
    expected = ["a.jsonl.10.gz", "a.jsonl.2.gz", "a.jsonl.1", "a.jsonl.gz", "a.jsonl", "b/c.log.1", "b/c.log"]
    assert found == expected


def test_discover_skips_hidden_directories(tmp_path: Path) -> None:
    """Files under dot-directories (the S3 shipper's .s3-outbox, .git) are not logs to show."""
    for name in ["a.jsonl", ".s3-outbox/a.jsonl.20261126T015118.058334Z.gz", ".git/x.log", "sub/b.jsonl"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = [os.path.relpath(log.path, tmp_path) for log in discover(str(tmp_path))]
    assert found == ["a.jsonl", "sub/b.jsonl"]
