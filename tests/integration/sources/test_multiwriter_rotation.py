"""Several real processes log to one file through ``setup_logging(max_bytes=N)`` while it is followed.

Each setting of issue 9's loss table runs once: writer processes rotate the file under each other while
``agent-tui query --follow`` (a real subprocess), the TUI's reading path (``open_source`` + ``LogModel``)
and ``agent-tui serve`` (a real subprocess, read over HTTP) follow the directory at the same time. Every
record must reach each of them exactly once.
"""

from __future__ import annotations

import asyncio
import collections
import gzip
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import aiohttp
import orjson
import pytest

from agent_tui.model.session import LogModel
from agent_tui.sources.base import LineBatch
from agent_tui.sources.factory import open_source
from agent_tui.sources.options import SourceOptions
from tests.integration.remote.conftest import ServeProcess
from tests.integration.sources.helpers import wait_until

WRITER = Path(__file__).with_name("log_writer.py")
AGENT_TUI = [sys.executable, "-m", "agent_tui"]
Key = tuple[str, int]


def _tick(line: bytes) -> Key | None:
    obj = orjson.loads(line)
    return (obj["w"], obj["i"]) if obj.get("event") == "tick" else None


class QueryFollower:
    """``agent-tui query --follow '' DIR`` in a subprocess; a thread counts the ticks it prints."""

    def __init__(self, directory: Path) -> None:
        self.proc = subprocess.Popen(
            [*AGENT_TUI, "query", "--follow", "", str(directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.ticks: collections.Counter[Key] = collections.Counter()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            key = _tick(line)
            if key is not None:
                self.ticks[key] += 1

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._thread.join(timeout=10)


class ModelFollower:
    """The TUI's path: the directory source from ``open_source`` feeding a following ``LogModel``."""

    def __init__(self, directory: Path) -> None:
        self.source = open_source(str(directory), SourceOptions(follow=True))
        self.model = LogModel(following=True)
        self.ticks: collections.Counter[Key] = collections.Counter()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for item in self.source.stream():
            if isinstance(item, LineBatch):
                self.model.ingest(item)
                for line in item.lines:
                    key = _tick(line)
                    if key is not None:
                        self.ticks[key] += 1

    async def stop(self) -> None:
        await self.source.close()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.model.close()


class ServeFollower:
    """``agent-tui serve DIR`` in a subprocess, its ``/api/stream?follow=1`` read by an HTTP client."""

    def __init__(self, directory: Path) -> None:
        self.server = ServeProcess(directory)
        self.base = self.server.start()
        self.ticks: collections.Counter[Key] = collections.Counter()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(self.base + "/api/stream?follow=1") as response,
        ):
            async for wire in response.content:
                record = orjson.loads(wire)
                line = record.get("line")
                if isinstance(line, dict) and line.get("event") == "tick":
                    self.ticks[(line["w"], line["i"])] += 1

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.server.kill()


def _difference(
    got: collections.Counter[Key], expected: collections.Counter[Key]
) -> tuple[list[Key], list[Key]]:
    """Records missing and records read more than once, each sorted (short to print on a failure)."""
    return sorted((expected - got).elements()), sorted((got - expected).elements())


def _on_disk(directory: Path) -> collections.Counter[Key]:
    found: collections.Counter[Key] = collections.Counter()
    for path in directory.iterdir():
        if path.name.startswith("agent.jsonl") and not path.name.endswith(".lock"):
            data = path.read_bytes()
            for line in (gzip.decompress(data) if path.suffix == ".gz" else data).splitlines():
                key = _tick(line)
                if key is not None:
                    found[key] += 1
    return found


def _start_writers(
    directory: Path, writers: int, count: int, max_bytes: int, gz: bool
) -> list[subprocess.Popen[bytes]]:
    tail = [str(count), str(max_bytes), *(["gz"] if gz else [])]
    return [
        subprocess.Popen([sys.executable, str(WRITER), str(directory), str(w), *tail]) for w in range(writers)
    ]


async def _write(directory: Path, writers: int, count: int, max_bytes: int, gz: bool) -> None:
    procs = _start_writers(directory, writers, count, max_bytes, gz)
    try:
        await wait_until(lambda: all(p.poll() is not None for p in procs), "the writers to finish", 120)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    assert [p.returncode for p in procs] == [0] * writers


@pytest.mark.parametrize(
    ("writers", "count", "max_bytes", "gz"),
    [
        pytest.param(1, 20_000, 100_000, False, id="1x20000@100kB"),
        pytest.param(2, 20_000, 2_000_000, False, id="2x20000@2MB"),
        pytest.param(2, 20_000, 500_000, False, id="2x20000@500kB"),
        pytest.param(3, 10_000, 200_000, False, id="3x10000@200kB"),
        pytest.param(2, 20_000, 100_000, False, id="2x20000@100kB"),
        pytest.param(2, 20_000, 0, False, id="2x20000@50MB-default"),
        pytest.param(2, 20_000, 100_000, True, id="2x20000@100kB-gzipped"),
    ],
)
async def test_every_record_is_followed_exactly_once_across_multi_process_rotation(
    tmp_path: Path, writers: int, count: int, max_bytes: int, gz: bool
) -> None:
    """query --follow, the TUI's source+model path and serve each get every record once, none twice,
    also when rotated files are gzipped (the plain file is read by identity until it disappears)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    expected = collections.Counter((str(w), i) for w in range(writers) for i in range(count))
    query = QueryFollower(logs)
    model = ModelFollower(logs)
    serve = ServeFollower(logs)
    try:
        await _write(logs, writers, count, max_bytes, gz)
        assert _on_disk(logs) == expected
        if max_bytes:
            assert len(os.listdir(logs)) > 3  # the files really rotated
        total = len(expected)

        followers = (query, model, serve)

        def progress() -> str:
            got = ", ".join(f"{type(f).__name__} {len(f.ticks)}" for f in followers)
            return f"every record ({total}): {got}"

        await wait_until(lambda: all(len(f.ticks) >= total for f in followers), progress, 90)
        for follower in followers:
            assert _difference(follower.ticks, expected) == ([], []), type(follower).__name__
        assert len(model.model.store) == total + writers  # plus one logging.configured line each
    finally:
        query.stop()
        await model.stop()
        await serve.stop()


async def test_following_the_file_itself_reads_every_file_it_rotates_into(tmp_path: Path) -> None:
    """``--follow DIR/agent.jsonl`` (a file source, started before the file exists) gets every record once
    while two processes rotate it every 100 kB."""
    logs = tmp_path / "logs"
    logs.mkdir()
    expected = collections.Counter((str(w), i) for w in range(2) for i in range(20_000))
    source = open_source(str(logs / "agent.jsonl"), SourceOptions(follow=True))
    ticks: collections.Counter[Key] = collections.Counter()

    async def follow() -> None:
        async for item in source.stream():
            if isinstance(item, LineBatch):
                for line in item.lines:
                    key = _tick(line)
                    if key is not None:
                        ticks[key] += 1

    task = asyncio.create_task(follow())
    try:
        await _write(logs, 2, 20_000, 100_000, False)
        await wait_until(lambda: len(ticks) >= len(expected), lambda: f"every record: {len(ticks)}", 90)
        assert ticks == expected
    finally:
        await source.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
