"""Rotating JSONL files: naming, gzip, daily rollover, and several processes appending at once."""

from __future__ import annotations

import gzip
import logging
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import orjson

from agent_tui.log import JsonFormatter, RotatingJsonlHandler, get_logger, rotated_siblings


def _read_all(path: Path) -> list[dict[str, object]]:
    records = []
    for name in [*rotated_siblings(str(path)), str(path)]:
        opener = gzip.open if name.endswith(".gz") else open
        with opener(name, "rb") as fh:
            records.extend(orjson.loads(line) for line in fh.read().splitlines())
    return records


def _logger(handler: logging.Handler, name: str) -> logging.Logger:
    log = get_logger(name)
    log.handlers = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)
    return log


def test_size_rotation_keeps_backup_count(tmp_path: Path) -> None:
    """Size rotation produces x.jsonl, x.jsonl.1..N like RotatingFileHandler and deletes older files."""
    path = tmp_path / "agent.jsonl"
    handler = RotatingJsonlHandler(path, JsonFormatter("a", "s"), max_bytes=2000, backup_count=3)
    log = _logger(handler, "rot.size")
    for i in range(300):
        log.info("tick", extra={"i": i})
    handler.close()
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock"))
    assert names == ["agent.jsonl", "agent.jsonl.1", "agent.jsonl.2", "agent.jsonl.3"]
    records = _read_all(path)
    seq = [r["i"] for r in records]
    assert seq == sorted(seq)
    assert seq[-1] == 299
    assert all(p.stat().st_size < 2000 + 200 for p in tmp_path.glob("agent.jsonl*"))


def test_rotated_files_are_gzipped_in_background(tmp_path: Path) -> None:
    """With compress=True rotated files become .N.gz and no record is lost."""
    path = tmp_path / "agent.jsonl"
    handler = RotatingJsonlHandler(
        path, JsonFormatter("a", "s"), max_bytes=4000, backup_count=100, compress=True, compress_delay=0
    )
    log = _logger(handler, "rot.gz")
    for i in range(500):
        log.info("tick", extra={"i": i, "pad": "x" * 40})
    assert handler.wait_compressed(timeout=30)
    handler.close()
    rotated = rotated_siblings(str(path))
    assert rotated and all(name.endswith(".gz") for name in rotated)
    assert [r["i"] for r in _read_all(path)] == list(range(500))


def test_daily_rotation_at_utc_midnight(tmp_path: Path) -> None:
    """A record stamped after the next UTC midnight rotates the file first (when='daily')."""
    path = tmp_path / "agent.jsonl"
    handler = RotatingJsonlHandler(path, JsonFormatter("a", "s"), max_bytes=0, when="daily")
    log = _logger(handler, "rot.daily")
    log.info("today")
    tomorrow = log.makeRecord("rot.daily", logging.INFO, "", 0, "tomorrow", None, None)
    tomorrow.created = (int(time.time() // 86400) + 1) * 86400 + 5.0
    handler.handle(tomorrow)
    handler.close()
    assert [r["event"] for r in _read_all(path)] == ["today", "tomorrow"]
    assert orjson.loads((tmp_path / "agent.jsonl.1").read_bytes())["event"] == "today"


WRITER = textwrap.dedent(
    """
    import logging, sys
    from agent_tui.log import JsonFormatter, RotatingJsonlHandler, get_logger
    path, writer = sys.argv[1], sys.argv[2]
    count, pad, max_bytes = (int(a) for a in sys.argv[3:6])
    handler = RotatingJsonlHandler(path, JsonFormatter(writer, "s"), max_bytes=max_bytes, backup_count=10000)
    log = get_logger("w")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    for i in range(count):
        log.info("line", extra={"writer": writer, "i": i, "pad": "p" * pad})
    handler.close()
    """
)


def _run_writers(path: Path, writers: int, count: int, pad: int, max_bytes: int) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), f"w{n}", str(count), str(pad), str(max_bytes)]
        )
        for n in range(writers)
    ]
    assert [p.wait(timeout=90) for p in procs] == [0] * writers


def test_processes_appending_never_interleave(tmp_path: Path) -> None:
    """Four processes appending 8 KB lines to one file: every line parses and every record is there."""
    path = tmp_path / "shared.jsonl"
    _run_writers(path, writers=4, count=300, pad=8000, max_bytes=0)
    records = _read_all(path)
    counts = Counter(r["writer"] for r in records)
    assert counts == {"w0": 300, "w1": 300, "w2": 300, "w3": 300}


def test_processes_rotating_one_file_lose_nothing(tmp_path: Path) -> None:
    """Four processes rotating a shared small file: all lines parse and each writer's sequence is complete."""
    path = tmp_path / "shared.jsonl"
    _run_writers(path, writers=4, count=1500, pad=100, max_bytes=32 * 1024)
    records = _read_all(path)
    assert len(rotated_siblings(str(path))) > 5
    by_writer: dict[str, list[int]] = {}
    for r in records:
        by_writer.setdefault(str(r["writer"]), []).append(int(r["i"]))  # type: ignore[call-overload]
    assert sorted(by_writer) == ["w0", "w1", "w2", "w3"]
    for seqs in by_writer.values():
        assert sorted(seqs) == list(range(1500))


def test_a_writer_whose_file_was_rotated_by_another_writes_the_next_record_to_the_new_file(
    tmp_path: Path,
) -> None:
    """Right after another handler (as another process would) rotates, the next record goes to the new
    file, not the renamed one: the shared rotation generation is checked on every write, not once a second."""
    path = tmp_path / "agent.jsonl"
    rotating = RotatingJsonlHandler(path, JsonFormatter("a", "s"), max_bytes=0)
    other = RotatingJsonlHandler(path, JsonFormatter("a", "s"), max_bytes=0)
    log = _logger(other, "rot.generation")
    log.info("before")
    rotating.doRollover()
    log.info("after")
    rotating.close()
    other.close()
    events = [orjson.loads(line)["event"] for line in path.read_bytes().splitlines()]
    rotated = [orjson.loads(line)["event"] for line in (tmp_path / "agent.jsonl.1").read_bytes().splitlines()]
    assert (rotated, events) == (["before"], ["after"])
