"""Export (x) uses the disk off the UI loop: a stalled disk leaves the screen live, a full one is a toast."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import aiofiles

from agent_tui.tui.export import ExportFile

from .conftest import T0, Build, line, screen_text, until

ROWS = 3000
"""About 300 kB of lines: several times a pipe's 64 kB buffer."""


def many_lines() -> list[bytes]:
    """ROWS info lines, each padded to roughly 100 bytes."""
    return [line(T0 + i * 0.01, "info", "tick", n=i, pad="x" * 40) for i in range(ROWS)]


async def test_full_disk_is_a_clear_toast_and_the_screen_stays_usable(build: Build) -> None:
    """Writing to /dev/full (ENOSPC from the kernel) ends in a 'disk full' toast; keys still work after it."""

    async def dev_full(_path: Path) -> ExportFile:
        return await aiofiles.open("/dev/full", "wb", buffering=0)

    app, source = build(export_open=dev_full)
    async with app.run_test(notifications=True, size=(120, 30)) as pilot:
        source.push(many_lines())
        await until(pilot, lambda: app.logs.row_count == ROWS)
        await pilot.press("x")
        await until(pilot, lambda: "disk full: export stopped after 0 of 3,000 records" in screen_text(app))
        await pilot.press("g")
        await until(pilot, lambda: app.logs.cursor == 0)


async def test_a_stalled_disk_never_freezes_the_screen(build: Build, tmp_path: Path) -> None:
    """While the export's writes are stuck (a FIFO nobody reads) keys still move the cursor; then it ends."""
    fifo = tmp_path / "slow-disk"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    received = bytearray()

    async def stalled(_path: Path) -> ExportFile:
        return await aiofiles.open(fifo, "wb", buffering=0)

    app, source = build(export_open=stalled, follow=False)
    try:
        async with app.run_test(notifications=True, size=(120, 30)) as pilot:
            source.push(many_lines())
            await until(pilot, lambda: app.logs.row_count == ROWS)
            await pilot.press("g", "x")
            await until(pilot, lambda: _pipe_full(reader, received))
            for expected in (1, 2, 3):
                await pilot.press("j")
                await until(pilot, lambda expected=expected: app.logs.cursor == expected)
            assert "exported" not in screen_text(app)
            drain = threading.Thread(target=_drain, args=(reader, received), daemon=True)
            drain.start()
            await until(pilot, lambda: f"exported {ROWS} records" in screen_text(app))
    finally:
        os.close(reader)
    await asyncio.to_thread(drain.join, 5)
    assert received.count(b"\n") == ROWS


def _pipe_full(reader: int, received: bytearray) -> bool:
    """True once the writer has filled the pipe (some bytes are waiting and none were read yet)."""
    import fcntl
    import termios

    waiting = bytearray(4)
    fcntl.ioctl(reader, termios.FIONREAD, waiting)
    return int.from_bytes(waiting, "little") >= 60_000 and not received


def _drain(reader: int, received: bytearray) -> None:
    """Read the FIFO until the writer closes it."""
    os.set_blocking(reader, True)
    while chunk := os.read(reader, 1 << 16):
        received.extend(chunk)
