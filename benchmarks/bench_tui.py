"""TUI benchmark in a real terminal (tmux): first screen and full index on a 1 M-line file, key→redraw and
line→screen latency while following at 10 000 lines/s, peak RSS; toolong (``tl``) on the same file.

Usage: ``python benchmarks/bench_tui.py [N] [--follow-only]`` (default 1 000 000 lines, reused from
benchmarks/data/).
Times are wall clock measured by polling ``tmux capture-pane`` (≈10 ms resolution); the box may be
shared, so the load average is printed with the table.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AGENT_TUI = Path(sys.executable).parent / "agent-tui"
TL_VENV = Path("/tmp/tlvenv")
WIDTH, HEIGHT = 120, 40


class Term:
    """A private tmux server running one command; the command is exec'd so the pane pid is the app."""

    def __init__(self, command: str, cwd: Path | None = None) -> None:
        self.socket = f"bench-tui-{uuid.uuid4().hex[:8]}"
        env = "env -u COLUMNS -u LINES TERM=xterm-256color TZ=UTC"
        self._tmux(
            "new-session",
            "-d",
            "-x",
            str(WIDTH),
            "-y",
            str(HEIGHT),
            "-s",
            "main",
            "-c",
            str(cwd or ROOT),
            f"exec {env} {command}",
        )
        self.pid = int(self._tmux("list-panes", "-t", "main", "-F", "#{pane_pid}").split()[0])

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        ).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "main")

    def send(self, key: str) -> None:
        self._tmux("send-keys", "-t", "main", key)

    def wait(self, predicate: Callable[[str], bool], limit: float = 300.0, poll: float = 0.01) -> float:
        """Seconds until ``predicate(screen)``; raises TimeoutError with the last screen."""
        start = time.perf_counter()
        text = ""
        while time.perf_counter() - start < limit:
            text = self.screen()
            if predicate(text):
                return time.perf_counter() - start
            time.sleep(poll)
        raise TimeoutError(text)

    def peak_rss_mb(self) -> float:
        """VmHWM of the app and its children (toolong and our loader may use processes)."""
        total = 0
        for pid in [self.pid, *_children(self.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def close(self) -> None:
        path = self._tmux("display-message", "-p", "#{socket_path}").strip()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)
        if path:
            Path(path).unlink(missing_ok=True)


def _children(pid: int) -> list[int]:
    try:
        out = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    kids = [int(p) for p in out]
    return kids + [g for k in kids for g in _children(k)]


def data_file(n: int) -> Path:
    path = HERE / "data" / f"fleet-{n}.jsonl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "gen.py"), str(path), str(n)], check=True)
    return path


def has_rows(text: str) -> bool:
    return any(badge in text for badge in (" INFO ", " DBG ", " WARN ", " ERR "))


def open_file(
    command: str, path: Path, ready: Callable[[str], bool], full: Callable[[str], bool] | None
) -> dict[str, float]:
    term = Term(f"{command} {path}")
    started = time.perf_counter()
    try:
        first = term.wait(ready)
        result = {"first": first}
        if full is not None:
            term.wait(full, limit=600, poll=0.2)
            result["full"] = time.perf_counter() - started
        result["rss"] = term.peak_rss_mb()
        return result
    finally:
        term.close()


def ensure_toolong() -> Path | None:
    tl = TL_VENV / "bin" / "tl"
    if tl.exists():
        return tl
    try:
        subprocess.run([sys.executable, "-m", "venv", str(TL_VENV)], check=True, capture_output=True)
        subprocess.run(
            [str(TL_VENV / "bin" / "pip"), "install", "-q", "toolong"], check=True, capture_output=True
        )
    except subprocess.CalledProcessError as exc:
        print(f"(toolong unavailable: {exc})")
        return None
    return tl if tl.exists() else None


def writer(path: Path, rate: int, stop: threading.Event, marks: dict[str, float]) -> None:
    """Append ``rate`` lines/s in 100 small bursts a second; every 0.5 s a unique marker line."""
    body = b'{"ts":"%s","level":"info","event":"load.tick","agent_id":"bench","n":%d}\n'
    per_tick = max(1, rate // 100)
    n = 0
    next_mark = time.perf_counter() + 1.0
    with path.open("ab", buffering=0) as out:
        while not stop.is_set():
            tick = time.perf_counter()
            ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()).encode()
            out.write(b"".join(body % (ts, n + i) for i in range(per_tick)))
            n += per_tick
            if tick >= next_mark:
                name = f"mark.{uuid.uuid4().hex[:10]}"
                out.write(b'{"ts":"%s","level":"warning","event":"%s"}\n' % (ts, name.encode()))
                marks[name] = time.perf_counter()
                next_mark = tick + 0.5
            time.sleep(max(0.0, 0.01 - (time.perf_counter() - tick)))


def follow_latency(rate: int, seconds: float = 12.0) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        logs = Path(tmp)
        path = logs / "agent.jsonl"
        path.write_bytes(b"")
        # Only the warning-level markers are shown (every line is still ingested and counted), so a
        # marker stays on screen long enough to be seen at 10 000 lines/s.
        term = Term(f"{AGENT_TUI} --follow --level warning {logs}")
        stop = threading.Event()
        marks: dict[str, float] = {}
        try:
            term.wait(lambda s: "FOLLOW" in s)
            thread = threading.Thread(target=writer, args=(path, rate, stop, marks), daemon=True)
            thread.start()
            line_lat: list[float] = []
            key_lat: list[float] = []
            seen: set[str] = set()
            deadline = time.perf_counter() + seconds
            paused = False
            next_key = time.perf_counter() + 1.5
            while time.perf_counter() < deadline:
                text = term.screen()
                now = time.perf_counter()
                for name, at in list(marks.items()):
                    if name not in seen and name in text:
                        seen.add(name)
                        line_lat.append(now - at)
                if now >= next_key:
                    sent = time.perf_counter()
                    term.send("space")
                    paused = not paused
                    want = "PAUSED" if paused else "FOLLOW"
                    key_lat.append(
                        sent + term.wait(lambda s, w=want: w in s.splitlines()[0], 10, 0.002) - sent
                    )
                    next_key = time.perf_counter() + 0.7
                time.sleep(0.005)
            stop.set()
            thread.join()
            behind = term.screen().splitlines()[0]
            kept_up = 0.0 if "pending" in behind else 1.0
            return {"line": line_lat, "key": key_lat, "rss": [term.peak_rss_mb()], "kept_up": [kept_up]}
        finally:
            stop.set()
            term.close()


def follow_in_process(rate: int, seconds: float = 8.0) -> tuple[list[float], list[float]]:
    """The same load against the app in-process (Pilot, no terminal): write → in view, write → row drawn."""
    import asyncio

    from agent_tui.schema import Level
    from agent_tui.sources.factory import open_source
    from agent_tui.sources.options import SourceOptions
    from agent_tui.tui.app import make_app

    async def run(logs: Path) -> tuple[list[float], list[float]]:
        path = logs / "agent.jsonl"
        path.write_bytes(b"")
        app = make_app(
            [open_source(str(logs), SourceOptions(follow=True))],
            follow=True,
            min_level=Level.WARNING,
            environ={},
        )
        marks: dict[str, float] = {}
        stop = threading.Event()
        seen: dict[str, float] = {}
        drawn: dict[str, float] = {}
        async with app.run_test(size=(WIDTH, HEIGHT)):
            thread = threading.Thread(target=writer, args=(path, rate, stop, marks), daemon=True)
            thread.start()
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                now = time.perf_counter()
                for i in range(len(app.view)):
                    seen.setdefault(app.model.store.record(app.view[i]).event, now)
                for i in range(app.logs.row_count):
                    drawn.setdefault(app.model.store.record(app.view[i]).event, now)
                await asyncio.sleep(0.002)
            stop.set()
            thread.join()
        return (
            [seen[k] - t for k, t in marks.items() if k in seen],
            [drawn[k] - t for k, t in marks.items() if k in drawn],
        )

    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        return asyncio.run(run(Path(tmp)))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    follow_only = "--follow-only" in sys.argv
    n = int(args[0]) if args else 1_000_000
    if follow_only:
        report_follow()
        return 0
    path = data_file(n)
    size = path.stat().st_size
    print(f"{n:,} lines, {size / 1e6:.0f} MB; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    ours = open_file(str(AGENT_TUI), path, has_rows, lambda s: _full(s, n))
    tl = ensure_toolong()
    theirs = open_file(str(tl), path, lambda s: '"event"' in s, None) if tl else None
    print()
    print(f"{'open ' + path.name:<40}{'agent-tui':>12}{'toolong':>12}{'ratio':>8}")
    rows = [
        ("first screen (s)", ours["first"], theirs["first"] if theirs else None),
        ("full index: levels, traces, stats (s)", ours["full"], None),
        ("peak RSS (MB)", ours["rss"], theirs["rss"] if theirs else None),
    ]
    for label, mine, other in rows:
        ratio = f"{other / mine:7.1f}x" if other else "      -"
        print(f"{label:<40}{mine:12.2f}{(other if other is not None else float('nan')):12.2f}{ratio}")
    print(f"{'RSS / file size':<40}{ours['rss'] * 1e6 / size:12.2f}")
    report_follow()
    return 0


def report_follow() -> None:
    rate = 10_000
    live = follow_latency(rate)
    print()
    print(f"follow at {rate:,} lines/s (agent-tui)     {'median':>10}{'p95':>10}{'max':>10}{'n':>6}")
    for label, key in (("new line → on screen (ms)", "line"), ("key → redraw (ms)", "key")):
        vals = [v * 1000 for v in live[key]]
        print(
            f"{label:<40}{statistics.median(vals) if vals else float('nan'):10.0f}"
            f"{pct(vals, 0.95):10.0f}{max(vals, default=float('nan')):10.0f}{len(vals):6d}"
        )
    print(f"{'peak RSS while following (MB)':<40}{live['rss'][0]:10.0f}")
    print(f"{'caught up at the end':<40}{'yes' if live['kept_up'][0] else 'no (lines pending)':>10}")
    in_view, drawn = follow_in_process(rate)
    print("in-process, same load (no terminal; rows counted when the view hands them to the widget):")
    for label, values in (
        ("  new line → in view (ms)", in_view),
        ("  new line → row on the log widget (ms)", drawn),
    ):
        vals = [v * 1000 for v in values]
        print(
            f"{label:<40}{statistics.median(vals) if vals else float('nan'):10.0f}"
            f"{pct(vals, 0.95):10.0f}{max(vals, default=float('nan')):10.0f}{len(vals):6d}"
        )


def _full(screen: str, n: int) -> bool:
    """The stats bar shows every record ingested and nothing pending."""
    head = screen.splitlines()[0] if screen else ""
    if "pending" in head:
        return False
    if n >= 1_000_000:
        label = f"{n / 1_000_000:.1f}M"
    elif n >= 100_000:
        label = f"{n // 1000}k"
    elif n >= 10_000:
        label = f"{n / 1000:.1f}k"
    else:
        label = str(n)
    return f"{label}/{label} shown" in head


if __name__ == "__main__":
    raise SystemExit(main())
