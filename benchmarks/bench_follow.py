"""Local sources: history read throughput and live-follow throughput/latency (``make bench``).

History: a 1 M-line fleet log (≈305 MB, generated once into /tmp) read by FileSource (worker-thread
``os.pread``), by an aiofiles loop and by a dedicated reader thread, with ``cat``/``wc -l`` as peers.
Follow: a writer *process* appends numbered lines with one ``write()`` each as fast as it can while
FileSource follows; every line must arrive once and in order. Latency: a writer paced at 10 000 lines/s
stamps each line with CLOCK_MONOTONIC; the follower measures arrival delay. On a shared machine compare
the CPU columns: wall times move with the load, CPU per line does not.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiofiles

from agent_tui.sources.base import LineBatch
from agent_tui.sources.file import FileSource
from agent_tui.sources.lines import LineSplitter
from agent_tui.sources.options import SourceOptions

HERE = Path(__file__).resolve().parent
WORK = Path(tempfile.gettempdir()) / "agent_tui_bench_follow"
HISTORY_LINES = 1_000_000
FOLLOW_LINES = 600_000
CHUNK = 1 << 20

WRITER = r"""
import os, sys, time
path, n, rate, per = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
pad = b"x" * 270
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
start = time.monotonic()
print(time.monotonic_ns(), flush=True)
if rate <= 0 and per > 1:
    for i in range(0, n, per):
        lines = [b'{"n":%09d,"t":%019d,"pad":"%s"}\n' % (j, 0, pad) for j in range(i, min(i + per, n))]
        os.write(fd, b"".join(lines))
elif rate <= 0:
    for i in range(n):
        os.write(fd, b'{"n":%09d,"t":%019d,"pad":"%s"}\n' % (i, 0, pad))
else:
    step = 10
    for i in range(0, n, step):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        for j in range(i, min(i + step, n)):
            os.write(fd, b'{"n":%09d,"t":%019d,"pad":"%s"}\n' % (j, time.monotonic_ns(), pad))
print(time.monotonic_ns(), flush=True)
"""


def history_file() -> Path:
    """The 1 M-line benchmark log, generated with benchmarks/gen.py on first use."""
    WORK.mkdir(exist_ok=True)
    path = WORK / "history.jsonl"
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "gen.py"), str(path), str(HISTORY_LINES)], check=True)
    return path


def timed_peer(cmd: list[str]) -> float:
    """Wall seconds of a peer command."""
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


async def read_filesource(path: Path) -> int:
    """Lines read by FileSource (executor + pread)."""
    count = 0
    async for item in FileSource(str(path), SourceOptions()).stream():
        if isinstance(item, LineBatch):
            count += len(item.lines)
    return count


async def read_aiofiles(path: Path) -> int:
    """Lines read by an aiofiles loop with the same splitter."""
    split = LineSplitter()
    count = pos = 0
    async with aiofiles.open(path, "rb") as fh:
        while chunk := await fh.read(CHUNK):
            lines, _ = split.feed(chunk, pos)
            pos += len(chunk)
            count += len(lines)
    return count + len(split.flush()[0])


async def read_thread(path: Path) -> int:
    """Lines read by a dedicated reader thread handing chunks to the loop through a queue."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=8)

    def reader() -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            while True:
                chunk = os.read(fd, CHUNK)
                asyncio.run_coroutine_threadsafe(queue.put(chunk), loop).result()
                if not chunk:
                    return
        finally:
            os.close(fd)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    split = LineSplitter()
    count = pos = 0
    while chunk := await queue.get():
        lines, _ = split.feed(chunk, pos)
        pos += len(chunk)
        count += len(lines)
    await asyncio.to_thread(thread.join)
    return count + len(split.flush()[0])


async def read_with_ingest(path: Path) -> int:
    """Lines read by FileSource and ingested into LogModel (parse + index + traces + stats)."""
    from agent_tui.model.session import LogModel

    model = LogModel()
    async for item in FileSource(str(path), SourceOptions()).stream():
        if isinstance(item, LineBatch):
            model.ingest(item)
    count = len(model.store)
    model.close()
    return count


def history_rows() -> list[tuple[str, float, float, str]]:
    """(method, seconds, MB/s, note) for each way of reading the history file."""
    path = history_file()
    size_mb = path.stat().st_size / 1e6
    timed_peer(["cat", str(path)])  # warm the page cache so every row reads from memory
    rows = []
    peers = [("cat > /dev/null (peer)", ["cat", str(path)]), ("wc -l (peer)", ["wc", "-l", str(path)])]
    for name, cmd in peers:
        secs = timed_peer(cmd)
        rows.append((name, secs, size_mb / secs, ""))
    readers: list[tuple[str, Callable[[Path], Coroutine[Any, Any, int]]]] = [
        ("FileSource (executor pread)", read_filesource),
        ("aiofiles loop", read_aiofiles),
        ("dedicated thread + queue", read_thread),
    ]
    if _has_log_model():
        readers.append(("FileSource + LogModel.ingest", read_with_ingest))
    for name, fn in readers:
        secs = cpu = float("inf")
        for _ in range(1 if "ingest" in name else 3):  # best of 3: the machine may be shared
            started, cpu_started = time.perf_counter(), time.process_time()
            count = asyncio.run(fn(path))
            secs = min(secs, time.perf_counter() - started)
            cpu = min(cpu, time.process_time() - cpu_started)
        ok = "ok" if count == HISTORY_LINES else f"LOST: {count}"
        note = f"{count / secs / 1e3:,.0f} k lines/s; CPU {cpu:.2f} s ({size_mb / cpu:,.0f} MB/s) {ok}"
        rows.append((name, secs, size_mb / secs, note))
    return rows


def _has_log_model() -> bool:
    try:
        from agent_tui.model.session import LogModel  # noqa: F401
    except ImportError:
        return False
    return True


async def follow_run(
    n: int, rate: float, poll: float, ingest: bool, watch: bool = False, per_write: int = 1
) -> dict[str, float]:
    """Follow a file while the writer process appends ``n`` lines; verify order; return measurements."""
    path = WORK / f"follow-{os.getpid()}.jsonl"
    path.unlink(missing_ok=True)
    path.write_bytes(b"")
    model = None
    if ingest:
        from agent_tui.model.session import LogModel

        model = LogModel(following=True)
    source = FileSource(str(path), SourceOptions(follow=True, poll_interval=poll, watch=watch))
    expected = 0
    delays: list[int] = []
    last_arrival = 0
    bad = 0
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", WRITER, str(path), str(n), str(rate), str(per_write)),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    writer_start = int(await proc.stdout.readline())
    cpu_started = time.process_time()
    deadline = time.monotonic_ns() + 120 * 10**9
    async for item in source.stream():
        if not isinstance(item, LineBatch):
            continue
        now = time.monotonic_ns()
        if now > deadline:
            break
        for line in item.lines:
            if int(line[5:14]) != expected:
                bad += 1
            expected += 1
            if rate > 0:
                delays.append(now - int(line[19:38]))
        if model is not None:
            model.ingest(item)
        last_arrival = now
        if expected >= n:
            break
    await source.close()
    cpu = time.process_time() - cpu_started
    writer_end = int(await proc.stdout.readline())
    await proc.wait()
    path.unlink()
    if model is not None:
        model.close()
    writer_s = (writer_end - writer_start) / 1e9
    follow_s = (last_arrival - writer_start) / 1e9
    result = {
        "writer_rate": n / writer_s,
        "follow_rate": expected / follow_s,
        "lag_ms": max(0, last_arrival - writer_end) / 1e6,
        "ok": float(expected == n and bad == 0),
        "cpu_us": cpu / max(expected, 1) * 1e6,
    }
    if delays:
        delays.sort()
        result["p50_ms"] = statistics.median(delays) / 1e6
        result["p99_ms"] = delays[int(len(delays) * 0.99)] / 1e6
        result["max_ms"] = delays[-1] / 1e6
    return result


async def aiofiles_follow_latency(n: int, rate: float, poll: float) -> dict[str, float]:
    """The same paced latency run with an aiofiles follow loop (read; sleep poll when empty)."""
    path = WORK / f"follow-aio-{os.getpid()}.jsonl"
    path.write_bytes(b"")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(path), str(n), str(rate), "1", stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    await proc.stdout.readline()
    delays: list[int] = []
    split = LineSplitter()
    pos = 0
    async with aiofiles.open(path, "rb") as fh:
        while len(delays) < n:
            chunk = await fh.read(CHUNK)
            if not chunk:
                if proc.returncode is not None and len(delays) < n:
                    raise RuntimeError("aiofiles follower lost lines")
                await asyncio.sleep(poll)
                continue
            now = time.monotonic_ns()
            lines, _ = split.feed(chunk, pos)
            pos += len(chunk)
            delays.extend(now - int(line[19:38]) for line in lines)
    await proc.stdout.readline()
    await proc.wait()
    path.unlink()
    delays.sort()
    return {
        "p50_ms": statistics.median(delays) / 1e6,
        "p99_ms": delays[int(len(delays) * 0.99)] / 1e6,
        "max_ms": delays[-1] / 1e6,
    }


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    print(f"history: {HISTORY_LINES:,} lines")
    print(f"{'method':34} {'seconds':>8} {'MB/s':>8}  note")
    rows = history_rows()
    for name, secs, mbs, note in rows:
        print(f"{name:34} {secs:8.2f} {mbs:8.0f}  {note}")
    cat_mbs = rows[0][2]
    ratio = rows[2][2] / rows[3][2]
    print(f"FileSource vs cat: {rows[2][2] / cat_mbs:.2f}x   vs aiofiles: {ratio:.2f}x (wall)")

    print(f"\nfollow: writer process, {FOLLOW_LINES:,} lines (ingest: a third) of ~310 B, one write() each")
    print(f"{'follower':34} {'writer l/s':>11} {'follow l/s':>11} {'lag ms':>8} {'CPU µs/l':>9}  order")
    runs = [("FileSource (default options)", False, FOLLOW_LINES, 1)]
    runs.append(("FileSource, writer 16 lines/write()", False, FOLLOW_LINES * 2, 16))
    if _has_log_model():
        runs.append(("FileSource + LogModel.ingest", True, FOLLOW_LINES // 3, 1))
    for name, ingest, count, per_write in runs:
        r = asyncio.run(follow_run(count, 0, 0.1, ingest, watch=True, per_write=per_write))
        ok = "ok" if r["ok"] else "LOST/REORDERED"
        rates = f"{r['writer_rate']:11,.0f} {r['follow_rate']:11,.0f}"
        print(f"{name:34} {rates} {r['lag_ms']:8.1f} {r['cpu_us']:9.2f}  {ok}")

    print("\nlatency: writer paced at 10 000 lines/s for 3 s, write→delivery delay")
    print(f"{'follower':34} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for poll in (0.1, 0.02):
        r = asyncio.run(follow_run(30_000, 10_000, poll, False))
        print(f"{f'FileSource poll {poll} s':34} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['max_ms']:8.1f}")
        r = asyncio.run(aiofiles_follow_latency(30_000, 10_000, poll))
        print(f"{f'aiofiles loop poll {poll} s':34} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['max_ms']:8.1f}")
    r = asyncio.run(follow_run(30_000, 10_000, 0.1, False, watch=True))
    name = "FileSource 0.1 s + inotify (default)"
    print(f"{name:34} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['max_ms']:8.1f}")
    if _has_log_model():
        r = asyncio.run(follow_run(30_000, 10_000, 0.1, True, watch=True))
        name = "default + LogModel.ingest"
        print(f"{name:34} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['max_ms']:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
