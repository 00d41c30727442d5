"""Remote: records/s through ``agent-tui serve`` → http source on loopback, and server memory per client.

Throughput: a 300 000-line fleet log (≈90 MB, benchmarks/gen.py) served by a real ``agent-tui serve``
subprocess and read to the end by ``HttpSource`` (every line decoded back to its original bytes), next to
peers in the same run: the raw NDJSON bytes read with aiohttp without decoding (the wire's ceiling), curl
reading the same stream, and the local ``FileSource`` on the same file. A second row does the same with a
server-side filter (``level >= warning``).
Memory: server RSS (``/proc/PID/status`` VmRSS) before and after N followers connect (idle, at the end of
the log), and while N clients stream the whole log concurrently; the delta divided by N.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from agent_tui.sources.base import LineBatch
from agent_tui.sources.file import FileSource
from agent_tui.sources.http import HttpSource
from agent_tui.sources.options import SourceOptions

HERE = Path(__file__).resolve().parent
WORK = Path(tempfile.gettempdir()) / "agent_tui_bench_remote"
LINES = 300_000
CLIENTS = 100
STREAM_LINES = 20_000
WARN = "level >= warning"


def _prepare() -> Path:
    logs = WORK / "logs"
    target = logs / "fleet.jsonl"
    if not target.exists() or sum(1 for _ in target.open("rb")) != LINES:
        logs.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "gen.py"), str(target), str(LINES)], check=True)
    return logs


class Server:
    def __init__(self, logs: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
        cmd = [sys.executable, "-m", "agent_tui", "serve", str(logs), "--port", "0", "--max-clients", "1000"]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, env=env)
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline().decode()
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        self.url = f"http://127.0.0.1:{port}"

    def rss_kib(self) -> int:
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+)", text)
        return int(match.group(1)) if match else 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def _http_source(url: str, filter_text: str | None = None) -> int:
    count = 0
    source = HttpSource(url, SourceOptions(filter_text=filter_text))
    async for item in source.stream():
        if isinstance(item, LineBatch):
            count += len(item.lines)
    await source.close()
    return count


async def _raw_wire(url: str) -> int:
    newlines = 0
    async with aiohttp.ClientSession() as session, session.get(url + "/api/stream?follow=0") as response:
        async for chunk in response.content.iter_chunked(1 << 20):
            newlines += chunk.count(b"\n")
    return newlines - 2


def _curl(url: str) -> int:
    out = subprocess.run(
        ["curl", "--noproxy", "*", "-s", url + "/api/stream?follow=0"], capture_output=True, check=True
    ).stdout
    return out.count(b"\n") - 2


async def _file_source(path: Path) -> int:
    count = 0
    source = FileSource(str(path), SourceOptions())
    async for item in source.stream():
        if isinstance(item, LineBatch):
            count += len(item.lines)
    await source.close()
    return count


def _timed(label: str, run: object) -> tuple[str, int, float]:
    started = time.perf_counter()
    count = asyncio.run(run) if asyncio.iscoroutine(run) else run()  # type: ignore[operator]
    return label, count, time.perf_counter() - started


async def _clients(url: str, n: int, *, idle: bool, server: Server) -> tuple[int, int]:
    """Connect n clients; return (peak server RSS KiB while connected, lines read by all)."""
    done = 0
    connected = 0
    peak = 0

    async def one(session: aiohttp.ClientSession) -> None:
        nonlocal done, connected
        params = "follow=1&lines=0" if idle else f"follow=0&lines={STREAM_LINES}"
        async with session.get(f"{url}/api/stream?{params}") as response:
            if idle:
                await response.content.readline()
                connected += 1
                await stop.wait()
                return
            async for chunk in response.content.iter_chunked(1 << 16):
                done += chunk.count(b"\n")

    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.ensure_future(one(session)) for _ in range(n)]
        deadline = time.monotonic() + 120
        settled: float | None = None
        while time.monotonic() < deadline and not all(t.done() for t in tasks):
            peak = max(peak, server.rss_kib())
            if idle and connected == n:
                settled = settled or time.monotonic()
                if time.monotonic() - settled > 1.0:
                    break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks)
    return peak, done


def main() -> int:
    logs = _prepare()
    path = logs / "fleet.jsonl"
    size = path.stat().st_size
    server = Server(logs)
    try:
        rows = [
            _timed("serve → HttpSource (decoded lines)", _http_source(server.url)),
            _timed("serve → HttpSource, filter " + WARN, _http_source(server.url, WARN)),
            _timed("peer: raw NDJSON bytes via aiohttp", _raw_wire(server.url)),
        ]
        if shutil.which("curl"):
            rows.append(_timed("peer: curl on the same stream", lambda: _curl(server.url)))
        rows.append(_timed("peer: local FileSource on the file", _file_source(path)))
        base = rows[0][2]
        print(f"throughput: {LINES:,} lines, {size / 1e6:.0f} MB, loopback, target >= 50 000 records/s")
        print("(records/s counts lines scanned: the filter row sends only its matches)\n")
        print(f"{'path':<46} {'sent':>9} {'seconds':>8} {'records/s':>11} {'vs http':>8}")
        for label, count, seconds in rows:
            rate = f"{LINES / seconds:>11,.0f}"
            print(f"{label:<46} {count:>9,} {seconds:>8.2f} {rate} {base / seconds:>7.2f}x")
        base_rss = server.rss_kib()
        idle_peak, _ = asyncio.run(_clients(server.url, CLIENTS, idle=True, server=server))
        after_idle = server.rss_kib()
        stream_peak, streamed = asyncio.run(_clients(server.url, CLIENTS, idle=False, server=server))
        idle_delta = (idle_peak - base_rss) / CLIENTS
        stream_delta = (stream_peak - base_rss) / CLIENTS
        print(f"\nmemory: server RSS {base_rss / 1024:.1f} MiB before clients\n")
        print(f"{'clients':<44} {'peak RSS MiB':>12} {'delta/client KiB':>17}")
        print(f"{f'{CLIENTS} idle followers':<44} {idle_peak / 1024:>12.1f} {idle_delta:>17.0f}")
        streaming = f"{CLIENTS} clients streaming {STREAM_LINES:,} lines each"
        print(f"{streaming:<44} {stream_peak / 1024:>12.1f} {stream_delta:>17.0f}")
        print(f"\n(records streamed: {streamed:,}; RSS after idle clients left: {after_idle / 1024:.1f} MiB)")
        print(f"(load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
