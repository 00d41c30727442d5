"""Following a directory while several processes log to one file through ``setup_logging(max_bytes=N)``.

Writer processes (the real ``agent_tui.log``, rotated files kept) log numbered records as fast as they can;
``DirectorySource`` follows the directory from empty, and ``tail -F`` (GNU, by name) follows the live file
in the same run as the peer. Columns: records the writers wrote per second, records the follower delivered
per second (first write to last delivery), follower CPU µs per record, and records lost / read twice.
"""

from __future__ import annotations

import asyncio
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

from agent_tui.sources.base import LineBatch
from agent_tui.sources.directory import DirectorySource
from agent_tui.sources.options import SourceOptions

WRITER = r"""
import logging, sys
from agent_tui.log import ObservabilityConfig, setup_logging
directory, writer, count, max_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
log = setup_logging(ObservabilityConfig("agent", "bench", log_dir=directory, console=False,
                                        backup_count=100_000, max_bytes=max_bytes))
print("ready", flush=True)
sys.stdin.readline()
for i in range(count):
    log.info("tick", extra={"w": writer, "i": i, "pad": "x" * 120})
logging.shutdown()
"""
ROOT = Path(__file__).resolve().parent.parent
SETTINGS = [(2, 20_000, 100_000), (3, 20_000, 1_000_000), (2, 20_000, 50 * 1024 * 1024)]
"""(writer processes, records each, max_bytes): fast rotation, moderate rotation, the default (none here)."""


def _key(line: bytes) -> tuple[str, int] | None:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return (obj["w"], obj["i"]) if isinstance(obj, dict) and obj.get("event") == "tick" else None


async def run(writers: int, count: int, max_bytes: int) -> dict[str, float]:
    total = writers * count
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        seen: collections.Counter[tuple[str, int]] = collections.Counter()
        source = DirectorySource(str(directory), SourceOptions(follow=True))
        done = asyncio.Event()
        last = [0.0]

        async def follow() -> None:
            async for item in source.stream():
                if isinstance(item, LineBatch):
                    for line in item.lines:
                        key = _key(line)
                        if key is not None:
                            seen[key] += 1
                    last[0] = time.perf_counter()
                    if len(seen) >= total:
                        done.set()

        procs = _start_writers(tmp, writers, count, max_bytes)
        tail = TailPeer(directory / "agent.jsonl")
        task = asyncio.create_task(follow())
        cpu0, start = time.process_time(), time.perf_counter()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            proc.stdin.close()
        await asyncio.gather(*(asyncio.to_thread(proc.wait) for proc in procs))
        wrote = time.perf_counter() - start
        try:
            async with asyncio.timeout(60):
                await done.wait()
        except TimeoutError:
            pass
        cpu = time.process_time() - cpu0
        await source.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        tail_keys = await asyncio.to_thread(tail.stop)
    return {
        "write": total / wrote,
        "follow": total / max(last[0] - start, 1e-9),
        "cpu_us": cpu / total * 1e6,
        "lost": total - len(seen),
        "twice": sum(c - 1 for c in seen.values() if c > 1),
        "tail_lost": total - len(tail_keys),
        "tail_twice": sum(c - 1 for c in tail_keys.values() if c > 1),
    }


def _start_writers(directory: str, writers: int, count: int, max_bytes: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, directory, str(w), str(count), str(max_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        for w in range(writers)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    return procs


class TailPeer:
    """``tail -F`` on the live file, its output drained by a thread so the pipe never holds it back."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            ["tail", "-n", "+1", "-F", str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.keys: collections.Counter[tuple[str, int]] = collections.Counter()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            key = _key(line)
            if key is not None:
                self.keys[key] += 1

    def stop(self) -> collections.Counter[tuple[str, int]]:
        """What tail -F printed by now (it had the whole follow wait to catch up)."""
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self._thread.join(timeout=30)
        return self.keys


def main() -> int:
    print("follow a directory from empty while writer processes rotate one file (setup_logging)")
    head = f"{'writers x records @ max_bytes':30} {'write r/s':>10} {'follow r/s':>11} {'CPU µs/r':>9}"
    print(f"{head} {'lost':>6} {'twice':>6} {'tail -F lost':>13} {'twice':>6}")
    if shutil.which("tail") is None:
        print("tail not found")
        return 1
    failed = False
    for writers, count, max_bytes in SETTINGS:
        r = asyncio.run(run(writers, count, max_bytes))
        size = f"{max_bytes / 1e6:g} MB" if max_bytes < 50_000_000 else "50 MB (default)"
        size = f"{max_bytes // 1000} kB" if max_bytes < 1_000_000 else size
        name = f"{writers} x {count:,} @ {size}"
        print(
            f"{name:30} {r['write']:10,.0f} {r['follow']:11,.0f} {r['cpu_us']:9.1f} {r['lost']:6.0f}"
            f" {r['twice']:6.0f} {r['tail_lost']:13.0f} {r['tail_twice']:6.0f}"
        )
        failed |= bool(r["lost"] or r["twice"])
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
