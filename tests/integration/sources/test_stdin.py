"""Standard input as a source, fed by real processes through real pipes."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.sources.factory import open_source
from agent_tui.sources.options import SourceOptions
from agent_tui.sources.stdin import StdinSource
from tests.integration.sources.helpers import DEADLINE_S, Collector, open_fds, wait_until

PRODUCER = (
    "import sys\nfor n in range(20000): sys.stdout.write('{\"n\": %d}\\n' % n)\n"
    "sys.stdout.write('{\"n\": 20000}')"
)


async def spawn(code: str, stdin: int | None = None) -> tuple[asyncio.subprocess.Process, BinaryIO]:
    """Start ``python -c code`` writing into a real OS pipe; return the process and the pipe's read end."""
    read_fd, write_fd = os.pipe()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, stdout=write_fd, stdin=stdin)
    os.close(write_fd)
    return proc, os.fdopen(read_fd, "rb", buffering=0)


async def test_pipe_from_a_producer_process_delivers_every_line_in_order() -> None:
    """20 001 lines piped from a child process arrive in order, the unterminated last one included."""
    proc, pipe = await spawn(PRODUCER)
    collector = Collector(StdinSource(pipe))
    await asyncio.wait_for(collector.task, DEADLINE_S)
    assert await asyncio.wait_for(proc.wait(), DEADLINE_S) == 0
    pipe.close()
    assert collector.numbers() == list(range(20001))
    assert collector.statuses[-1].reason == "end of input"


async def test_close_while_the_writer_is_idle_ends_the_stream_and_keeps_stdin_usable() -> None:
    """close() on a pipe with no data pending ends the stream; our dup is closed, the original stays open."""
    code = "import sys\nprint('{\"n\": 0}', flush=True)\nsys.stdin.read()"
    proc, pipe = await spawn(code, stdin=asyncio.subprocess.PIPE)
    assert proc.stdin is not None
    before = open_fds()
    collector = Collector(StdinSource(pipe))
    await collector.has_numbers(1)
    await collector.close()
    assert collector.statuses[-1].state is SourceState.DONE
    assert open_fds() == before
    assert not pipe.closed and os.get_blocking(pipe.fileno())
    proc.stdin.close()
    assert await asyncio.wait_for(proc.wait(), DEADLINE_S) == 0
    pipe.close()


async def test_regular_file_and_in_memory_streams_are_read_on_a_thread(tmp_path: Path) -> None:
    """A file redirected to stdin and a BytesIO both give every line."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"n": 0}\n{"n": 1}\n')
    with path.open("rb") as fh:
        from_file = Collector(StdinSource(fh))
        await wait_until(lambda: from_file.ended, "end of file")
    from_memory = Collector(StdinSource(io.BytesIO(b'{"n": 0}\n{"n": 1}')))
    await wait_until(lambda: from_memory.ended, "end of stream")
    assert from_file.numbers() == from_memory.numbers() == [0, 1]


def test_agent_tui_process_reads_its_real_stdin_from_a_shell_pipe() -> None:
    """open_source('-') in a child process reads the pipe on its real stdin and leaves it blocking."""
    child = (
        "import asyncio, os, sys\n"
        "from agent_tui.sources.factory import open_source\n"
        "from agent_tui.sources.options import SourceOptions\n"
        "async def main():\n"
        "    n = 0\n"
        "    async for item in open_source('-', SourceOptions()).stream():\n"
        "        n += len(getattr(item, 'lines', []))\n"
        "    print(n, os.get_blocking(0))\n"
        "asyncio.run(main())\n"
    )
    producer = subprocess.Popen([sys.executable, "-c", PRODUCER], stdout=subprocess.PIPE)
    result = subprocess.run(
        [sys.executable, "-c", child],
        stdin=producer.stdout,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=False,
    )
    assert producer.stdout is not None
    producer.stdout.close()
    assert producer.wait(DEADLINE_S) == 0
    assert result.stdout.split() == ["20001", "True"], result.stderr


async def test_fifo_path_is_read_like_stdin(tmp_path: Path) -> None:
    """A named pipe given as a path is streamed (not seeked), and the source closes what it opened."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code = f"import sys\nwith open({str(fifo)!r}, 'wb') as f:\n    f.write(b'{{\"n\": 0}}\\n{{\"n\": 1}}\\n')"
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code)
    # The writer's open() blocks until a reader exists, so open the source first, then let it connect.
    before = open_fds()
    source = open_source(str(fifo), SourceOptions())
    assert isinstance(source, StdinSource)
    await asyncio.wait_for(proc.wait(), DEADLINE_S)
    collector = Collector(source)
    await asyncio.wait_for(collector.task, DEADLINE_S)
    assert collector.numbers() == [0, 1]
    assert open_fds() == before


async def test_close_between_items_releases_the_pipe_and_ends_with_done() -> None:
    """close() from the consumer's loop body frees our descriptor at once; iterating on ends with DONE."""
    code = 'import sys\nsys.stdout.write(\'{"n": 0}\\n{"n": 1}\')\nsys.stdout.flush()\nsys.stdin.read()'
    proc, pipe = await spawn(code, stdin=asyncio.subprocess.PIPE)
    assert proc.stdin is not None
    before = open_fds()
    source = StdinSource(pipe)
    stream = source.stream()
    items = [await anext(stream), await anext(stream)]
    await source.close()
    # The transport releases its descriptor on the next loop turn.
    await wait_until(lambda: open_fds() == before, "our pipe descriptor to be closed")
    items += [item async for item in stream]
    lines = [line for item in items if isinstance(item, LineBatch) for line in item.lines]
    assert lines == [b'{"n": 0}', b'{"n": 1}']
    assert isinstance(items[-1], SourceStatus) and items[-1].state is SourceState.DONE
    proc.stdin.close()
    assert await asyncio.wait_for(proc.wait(), DEADLINE_S) == 0
    pipe.close()
