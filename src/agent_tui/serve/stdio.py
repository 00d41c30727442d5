"""``agent-tui serve DIR --stdio``: one NDJSON stream on stdout (what the ssh:// source runs remotely)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import BinaryIO

from agent_tui.serve.app import ServeConfig, parse_since
from agent_tui.serve.files import ServedDir
from agent_tui.serve.session import GateError, StreamSession
from agent_tui.serve.watcher import DirWatcher
from agent_tui.serve.wire import control
from agent_tui.sources.cursor import CursorError, decode_cursor_files

__all__ = ["serve_stdio"]


async def serve_stdio(config: ServeConfig, args: argparse.Namespace, out: BinaryIO | None = None) -> int:
    """Stream ``config.root`` as the NDJSON wire to ``out`` (stdout) until it closes; exit code."""
    sink = out if out is not None else sys.stdout.buffer
    try:
        start = decode_cursor_files(args.cursor) if args.cursor else None
        since = parse_since(args.since) if args.since else None
        gates = None
        if (args.filter or since is not None) and config.gate_builder is not None:
            gates = config.gate_builder(args.filter, None if start else since)
    except (CursorError, ValueError) as exc:
        message = exc.message if isinstance(exc, GateError) else str(exc)
        print(f"agent-tui serve: {message}", file=sys.stderr)
        return 2
    served = ServedDir(config.root)
    watcher = DirWatcher(served, config.poll_interval)
    session = StreamSession(
        served,
        start=start,
        lines=None if start else args.lines,
        gate_factory=gates,
        chunk_bytes=config.chunk_bytes,
    )
    session.open(list(watcher.files))
    watcher.start()
    try:
        return await _pump(sink, session, watcher, config, follow=bool(args.follow))
    except (BrokenPipeError, ConnectionError):
        return 0
    finally:
        await watcher.stop()
        session.close()


async def _pump(
    sink: BinaryIO, session: StreamSession, watcher: DirWatcher, config: ServeConfig, follow: bool
) -> int:
    def emit(data: bytes) -> None:
        sink.write(data)
        sink.flush()

    start: dict[str, object] = {"cursor": session.cursor(), "heartbeat": config.heartbeat}
    if session.warnings:
        start["warnings"] = session.warnings
    emit(control("start", False, **start))
    generation = watcher.generation
    session.refresh(list(watcher.files))
    last_send = time.monotonic()
    while True:
        data, progressed = session.poll(config.chunk_bytes)
        if data:
            emit(data)
            last_send = time.monotonic()
        if progressed:
            await asyncio.sleep(0)
            continue
        if not follow:
            emit(control("end", False, reason="complete", cursor=session.cursor()))
            return 0
        idle = time.monotonic() - last_send
        if idle >= config.heartbeat:
            emit(control("heartbeat", False))
            last_send = time.monotonic()
            continue
        new_generation = await watcher.wait(generation, min(config.heartbeat - idle, 0.5))
        if new_generation != generation:
            generation = new_generation
            session.refresh(list(watcher.files))
