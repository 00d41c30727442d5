"""Real servers, real writers and helpers for the remote-source tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from agent_tui.serve import ServeConfig, make_app
from agent_tui.sources.base import LineBatch, Source, SourceStatus

REPO = Path(__file__).resolve().parents[3]


async def wait_for(predicate: Callable[[], bool], deadline: float = 30.0, what: str = "condition") -> None:
    """Poll ``predicate`` until it holds; fail with ``what`` after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def numbered(n: int) -> bytes:
    """The line the writer writes for record number ``n``."""
    return orjson.dumps({"ts": 1_780_000_000 + n / 1000, "level": "info", "event": "tick", "n": n})


@dataclass
class NumberedWriter:
    """Appends numbered JSON lines to ``directory/name``; rename-rotates every ``rotate_every`` lines."""

    directory: Path
    name: str = "app.jsonl"
    rotate_every: int | None = None
    keep: int = 20
    written: int = 0

    @property
    def path(self) -> Path:
        return self.directory / self.name

    def rotate(self) -> None:
        for i in range(self.keep - 1, 0, -1):
            older = self.directory / f"{self.name}.{i}"
            if older.exists():
                older.rename(self.directory / f"{self.name}.{i + 1}")
        if self.path.exists():
            self.path.rename(self.directory / f"{self.name}.1")

    def write(self, count: int) -> None:
        for _ in range(count):
            if self.rotate_every and self.written and self.written % self.rotate_every == 0:
                self.rotate()
            with self.path.open("ab") as out:
                out.write(numbered(self.written) + b"\n")
            self.written += 1


@dataclass
class BackgroundWriter:
    """Writes ``total`` numbered lines from a thread, ``per_tick`` lines every ``interval`` seconds."""

    writer: NumberedWriter
    total: int
    per_tick: int = 20
    interval: float = 0.01
    done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> BackgroundWriter:
        self._thread.start()
        return self

    def _run(self) -> None:
        while self.writer.written < self.total:
            self.writer.write(min(self.per_tick, self.total - self.writer.written))
            time.sleep(self.interval)
        self.done.set()

    def join(self) -> None:
        self._thread.join(timeout=60)


@contextlib.asynccontextmanager
async def running_app(config: ServeConfig, port: int = 0) -> AsyncIterator[tuple[str, web.Application]]:
    """Serve ``config`` in-process on 127.0.0.1; yield its base URL and the app."""
    app = make_app(config)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{bound}", app
    finally:
        await runner.cleanup()


class ServeProcess:
    """``python -m agent_tui serve`` as a real subprocess on 127.0.0.1."""

    def __init__(self, directory: Path, *extra: str) -> None:
        self.directory = directory
        self.extra = extra
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        cmd = [sys.executable, "-m", "agent_tui", "serve", str(self.directory), "--port", str(self.port)]
        self.proc = subprocess.Popen([*cmd, *self.extra], stderr=subprocess.PIPE, env=env)
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline().decode()
        if "://" not in line:
            raise AssertionError(f"serve did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1].split("/")[0])
        return f"http://127.0.0.1:{self.port}"

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    made: list[ServeProcess] = []

    def make(directory: Path, *extra: str) -> ServeProcess:
        made.append(ServeProcess(directory, *extra))
        return made[-1]

    yield make
    for proc in made:
        proc.kill()


@dataclass
class Collector:
    """Drains a source in a task, keeping every line and status."""

    source: Source
    lines: list[bytes] = field(default_factory=list)
    batches: list[LineBatch] = field(default_factory=list)
    statuses: list[SourceStatus] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def start(self) -> Collector:
        self.task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def _run(self) -> None:
        async for item in self.source.stream():
            if isinstance(item, LineBatch):
                self.batches.append(item)
                self.lines.extend(item.lines)
            else:
                self.statuses.append(item)

    def numbers(self) -> list[int]:
        return [orjson.loads(line)["n"] for line in self.lines]

    async def stop(self) -> None:
        await self.source.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
