"""TUI benchmark in a real terminal (tmux): first screen and full index on a 1 M-line file, key→redraw and
line→screen latency while following at 10 000 lines/s, peak RSS; toolong (``tl``) on the same file.

Usage: ``python benchmarks/bench_tui.py [N] [--follow-only | --live-only | --first-only [--runs R]]``
(default 1 000 000 lines, reused from benchmarks/data/); ``--live-only`` runs only the burst and
follow-throughput rows; ``--first-only`` only the first screen, ours and toolong taking turns R times
(default 5) on each spelling, and prints the medians.
Times are wall clock measured by polling ``tmux capture-pane`` (≈10 ms resolution), except key → redraw,
seen in the app's output through a tmux control-mode client (``KeyProbe``); the box may be shared, so the
load average is printed with the table. "Fully indexed" is timed on a run nobody touches (a user opens the
file and waits); a second run presses space while history loads, for the key → redraw row, and its full
index time is shown beside (each press redraws the screen, work the load then waits for).
"""

from __future__ import annotations

import compileall
import itertools
import json
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
from typing import Any

from agent_tui.tui.widgets.stats_bar import human_count

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_query import dataset, warm  # noqa: E402

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


class KeyProbe:
    """A tmux control-mode client on ``term``'s pane: sends keys and sees the app's output as tmux gets it.

    Key -> redraw is then the time until the awaited word is in the app's output, without a
    ``capture-pane`` process started every few milliseconds (on a 2-core machine that polling took a
    good part of a core away from the app being measured).
    """

    def __init__(self, term: Term) -> None:
        self._proc = subprocess.Popen(
            ["tmux", "-L", term.socket, "-C", "attach", "-t", "main"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._seen = threading.Condition()
        self._output: list[tuple[float, bytes]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if line.startswith(b"%output "):
                with self._seen:
                    self._output.append((time.perf_counter(), line))
                    self._seen.notify_all()

    def take(self) -> list[tuple[float, bytes]]:
        """The output chunks received since the last call, each with when it arrived."""
        with self._seen:
            out, self._output = self._output, []
        return out

    def press(self, key: str, word: str, limit: float = 10.0) -> float:
        """Seconds from sending ``key`` until ``word`` is in the app's output after it (else TimeoutError)."""
        assert self._proc.stdin is not None
        want = word.encode()
        started = time.perf_counter()
        self._proc.stdin.write(f"send-keys -t main {key}\n".encode())
        self._proc.stdin.flush()
        with self._seen:
            while not any(at >= started and want in chunk for at, chunk in self._output):
                left = limit - (time.perf_counter() - started)
                if left <= 0:
                    raise TimeoutError(word)
                self._seen.wait(left)
            return time.perf_counter() - started

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(2)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def _children(pid: int) -> list[int]:
    try:
        out = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    kids = [int(p) for p in out]
    return kids + [g for k in kids for g in _children(k)]


def data_file(n: int, spaced: bool = False) -> Path:
    """The generated fleet log (compact JSON), or its copy spelled the way ``json.dumps`` writes it (the
    files ``bench_query`` and ``bench_index`` use), read once into the page cache."""
    return warm(dataset(n, "spaced" if spaced else "compact"))


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


def first_screen(command: str, path: Path, ready: Callable[[str], bool]) -> float:
    """Seconds from starting ``command path`` until ``ready(screen)``; returns once the process is gone,
    so the next run does not share the cores with this one's exit."""
    term = Term(f"{command} {path}")
    try:
        return term.wait(ready, poll=0.005)
    finally:
        term.close()
        gone_by = time.perf_counter() + 10
        while Path(f"/proc/{term.pid}").exists() and time.perf_counter() < gone_by:
            time.sleep(0.01)


def byte_compile() -> None:
    """Byte-compile src/ as ``make bytecode`` does: an installed wheel has its bytecode, an editable
    install under PYTHONDONTWRITEBYTECODE would compile every module on each start (toolong's venv,
    installed by pip, has its bytecode)."""
    compileall.compile_dir(ROOT / "src", quiet=1)


def report_first(n: int, runs: int) -> None:
    """The first-rows row alone: ours and toolong alternately, ``runs`` times on each spelling."""
    byte_compile()
    tl = ensure_toolong()
    print(
        f"{'first rows on screen (s)':<34}{'load':>10}{'agent-tui':>11}{'toolong':>9}{'ratio':>7}  all runs"
    )
    for spaced in (False, True):
        path = data_file(n, spaced)
        before = os.getloadavg()[0]
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(runs):
            ours.append(first_screen(str(AGENT_TUI), path, has_rows))
            if tl is not None:
                theirs.append(first_screen(str(tl), path, lambda s: '"event"' in s))
        mine = statistics.median(ours)
        peer = statistics.median(theirs) if theirs else float("nan")
        spelling = "json.dumps spacing" if spaced else "compact"
        print(
            f"{spelling + f' ({runs} runs, median)':<34}{before:>5.1f}-{os.getloadavg()[0]:<4.1f}"
            f"{mine:>11.2f}{peer:>9.2f}{mine / peer:>7.2f}  "
            f"ours {' '.join(f'{v:.2f}' for v in ours)} / toolong {' '.join(f'{v:.2f}' for v in theirs)}"
        )
    print(f"target <= 0.5 s: {os.cpu_count()} CPUs")


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
        probe: KeyProbe | None = None
        try:
            term.wait(lambda s: "FOLLOW" in s)
            probe = KeyProbe(term)
            thread = threading.Thread(target=writer, args=(path, rate, stop, marks), daemon=True)
            thread.start()
            shown: list[tuple[float, float]] = []
            pauses: list[tuple[float, float]] = []
            key_lat: list[float] = []
            seen: set[str] = set()
            deadline = time.perf_counter() + seconds
            paused = False
            next_key = time.perf_counter() + 1.5
            while time.perf_counter() < deadline:
                now = time.perf_counter()
                for at_seen, chunk in probe.take():
                    for name, at in list(marks.items()):
                        if name not in seen and name.encode() in chunk:
                            seen.add(name)
                            shown.append((at, at_seen))
                if now >= next_key:
                    paused = not paused
                    sent = time.perf_counter()
                    key_lat.append(probe.press("space", "PAUSED" if paused else "FOLLOW"))
                    if paused:
                        pauses.append((sent, float("inf")))
                    elif pauses:
                        pauses[-1] = (pauses[-1][0], sent + key_lat[-1])
                    next_key = time.perf_counter() + 0.7
                time.sleep(0.005)
            stop.set()
            thread.join()
            behind = term.screen().splitlines()[0]
            kept_up = 0.0 if "pending" in behind else 1.0
            # A marker drawn only once the rows were unpaused measures the pause, not the app.
            line_lat = [
                seen_at - at
                for at, seen_at in shown
                if not any(start < seen_at and at < end for start, end in pauses)
            ]
            return {"line": line_lat, "key": key_lat, "rss": [term.peak_rss_mb()], "kept_up": [kept_up]}
        finally:
            stop.set()
            if probe is not None:
                probe.close()
            term.close()


def follow_in_process(rate: int, seconds: float = 8.0) -> tuple[list[float], list[float]]:
    """The same load against the app in-process (Pilot, no terminal): write → in view, write → row drawn."""
    import asyncio

    from agent_tui.schema import Level
    from agent_tui.sources.factory import open_source
    from agent_tui.sources.options import SourceOptions
    from agent_tui.tui.factory import make_app

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


def _head(screen: str) -> str:
    return screen.splitlines()[0] if screen else ""


def stats_seconds(path: Path) -> float:
    """Wall seconds of ``agent-tui stats`` (the headless full index) on ``path``."""
    started = time.perf_counter()
    subprocess.run([str(AGENT_TUI), "stats", str(path)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def open_ours(path: Path, n: int, *, press: bool = True) -> tuple[dict[str, float], list[float]]:
    """First rows, fully indexed and peak RSS; with ``press``, space (pause) pressed while history loads
    and key→redraw timed each time (each press redraws the screen: work the load waits for)."""
    term = Term(f"{AGENT_TUI} {path}")
    started = time.perf_counter()
    try:
        result = {"first": term.wait(has_rows, poll=0.005)}
        keys: list[float] = []
        paused = False
        probe = KeyProbe(term)
        try:
            while press and "indexing history" in _head(term.screen()) and len(keys) < 60:
                paused = not paused
                probe.take()
                keys.append(probe.press("space", "PAUSED" if paused else "STATIC"))
                time.sleep(0.05)
            if paused:
                probe.press("space", "STATIC")
        finally:
            probe.close()
        term.wait(lambda s: _full(s, n), limit=600, poll=0.05)
        result["full"] = time.perf_counter() - started
        result["rss"] = term.peak_rss_mb()
        return result, keys
    finally:
        term.close()


def _first_lines(path: Path, n: int) -> bytes:
    with path.open("rb") as fh:
        return b"".join(itertools.islice(fh, n))


def _marker(name: str, spaced: bool) -> bytes:
    record = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "level": "warning", "event": name}
    return (json.dumps(record) if spaced else json.dumps(record, separators=(",", ":"))).encode() + b"\n"


def burst_on_screen(source: Path, n: int, spaced: bool) -> float:
    """Seconds from appending ``n`` lines (one write) to a followed file until the screen shows them all."""
    body = _first_lines(source, n)
    name = f"burst.end.{uuid.uuid4().hex[:10]}"
    label = human_count(n + 1)
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        path = Path(tmp) / "agent.jsonl"
        path.write_bytes(b"")
        term = Term(f"{AGENT_TUI} --follow {path}")
        try:
            term.wait(lambda s: "FOLLOW" in _head(s))
            _worker_idle(term.pid)
            with path.open("ab") as out:
                out.write(body + _marker(name, spaced))
            # Each capture costs ~3 ms of CPU (a tmux client and the server's render): polled every 5 ms
            # it took a third of a core from the app on a 2-core box; every 20 ms, a tenth.
            return term.wait(lambda s: name in s and f"{label}/{label} shown" in _head(s), 300, 0.02)
        finally:
            term.close()


def _worker_idle(pid: int, limit: float = 10.0) -> None:
    """Wait until the app's parse worker (its child process) has started and sits idle, as after a while
    of following (the follow row waits for it too)."""
    deadline = time.perf_counter() + limit
    last = -1.0
    while time.perf_counter() < deadline:
        kids = _children(pid)
        cpu = sum(_cpu_seconds(k) for k in kids)
        if kids and cpu == last:
            return
        last = cpu if kids else -1.0
        time.sleep(0.1)


COPIER = r"""
import os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, "rb") as fh:
    data = b"".join(line for _, line in zip(range(n), fh))
fd = os.open(dst, os.O_WRONLY | os.O_APPEND)
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.read(1)
pos = 0
while pos < len(data):
    cut = data.rfind(b"\n", pos, pos + (1 << 16)) + 1 or len(data)
    os.write(fd, data[pos:cut])
    pos = cut
"""


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker_ready(app: Any) -> bool:
    return app.live.worker is not None and bool(app.live.worker.ready)


def follow_throughput(source: Path, n: int, *, worker: bool = True) -> tuple[float, float, float, bool]:
    """Lines/s the app keeps up with (source → parse → store → view) while a writer appends ``n`` lines
    as fast as it can; this process's and its live parse worker's CPU seconds per line (load-independent);
    whether every line arrived exactly once. ``worker=False`` keeps every batch in-process (to compare)."""
    use_worker = worker
    import asyncio

    from agent_tui.sources.factory import open_source
    from agent_tui.sources.options import SourceOptions
    from agent_tui.tui.factory import make_app
    from agent_tui.tui.livefold import LiveFold

    async def run(path: Path) -> tuple[float, float, float, bool]:
        app = make_app([open_source(str(path), SourceOptions(follow=True))], follow=True, environ={})
        if not use_worker:
            app.live = LiveFold(app.inbox, app.wake, rate=float("inf"), backlog_lines=1 << 62)
        async with app.run_test(size=(WIDTH, HEIGHT)):
            while app.source_states.get(str(path), ("",))[0] != "following":  # noqa: ASYNC110 -- polling the app is the measurement
                await asyncio.sleep(0.01)
            ready_by = time.perf_counter() + 10
            # The worker starts as the source follows; a writer comes later.
            while use_worker and not _worker_ready(app) and time.perf_counter() < ready_by:  # noqa: ASYNC110 -- as above
                await asyncio.sleep(0.01)
            warm = app.live.worker
            worker_started = _cpu_seconds(warm.pid) if warm is not None and warm.pid else 0.0
            pipe = asyncio.subprocess.PIPE
            writer = await asyncio.create_subprocess_exec(
                sys.executable, "-c", COPIER, str(source), str(path), str(n), stdin=pipe, stdout=pipe
            )
            assert writer.stdin is not None and writer.stdout is not None
            # The clock starts when the writer has its lines in memory (reading them is not following).
            await writer.stdout.readline()
            started, cpu_started = time.perf_counter(), time.process_time()
            writer.stdin.write(b"g")
            await writer.stdin.drain()
            deadline = started + 300
            while app.logs.row_count < n and time.perf_counter() < deadline:  # noqa: ASYNC110 -- as above
                await asyncio.sleep(0.002)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            worker = app.live.worker
            worker_cpu = 0.0
            if worker is not None and worker.pid:
                worker_cpu = _cpu_seconds(worker.pid) - worker_started
            await writer.wait()
            await asyncio.sleep(0.5)
            ok = len(app.view) == n and len(app.model.store) == n and app.model.store.raw_count == 0
            return n / elapsed, cpu / n, worker_cpu / n, ok

    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        path = Path(tmp) / "agent.jsonl"
        path.write_bytes(b"")
        return asyncio.run(run(path))


def _mark(value: float, target: float, *, below: bool = True) -> str:
    return "ok" if (value <= target if below else value >= target) else "MISS"


def main() -> int:
    args = [a for i, a in enumerate(sys.argv[1:]) if not a.startswith("--") and sys.argv[i] != "--runs"]
    follow_only = "--follow-only" in sys.argv
    n = int(args[0]) if args else 1_000_000
    if follow_only:
        report_follow()
        return 0
    if "--first-only" in sys.argv:
        runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
        report_first(n, runs)
        return 0
    if "--live-only" in sys.argv:
        for spaced in (False, True):
            path = data_file(n, spaced)
            spelling = "json.dumps spacing" if spaced else "compact"
            print(f"\n{spelling}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
            print(f"{'what':<46}{'agent-tui':>11}{'peer':>22}  target")
            report_live(path, n, spaced)
        return 0
    tl = ensure_toolong()
    byte_compile()
    for spaced in (False, True):
        path = data_file(n, spaced)
        size = path.stat().st_size
        spelling = "json.dumps spacing" if spaced else "compact"
        print(
            f"\n{n:,} lines, {size / 1e6:.0f} MB, {spelling}; {os.cpu_count()} CPUs; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        ours, _ = open_ours(path, n, press=False)
        pressed, keys = open_ours(path, n)
        stats = stats_seconds(path)
        theirs = open_file(str(tl), path, lambda s: '"event"' in s, None) if tl else None
        full_ratio = ours["full"] / stats
        key_ms = [k * 1000 for k in keys]
        print(f"{'what':<46}{'agent-tui':>11}{'peer':>22}  target")
        tl_first = f"toolong {theirs['first']:.2f}" if theirs else "toolong -"
        rows = [
            (
                "first rows on screen (s)",
                f"{ours['first']:.2f}",
                tl_first,
                f"<= 0.5 {_mark(ours['first'], 0.5)}",
            ),
            (
                "fully indexed (s)",
                f"{ours['full']:.2f}",
                f"stats {stats:.2f} ({full_ratio:.2f}x)",
                f"<= 1.5x stats {_mark(full_ratio, 1.5)}",
            ),
            (
                "  the same with a key every ~0.1 s (s)",
                f"{pressed['full']:.2f}",
                f"({pressed['full'] / stats:.2f}x)",
                "",
            ),
            (
                "key -> redraw while history loads, p95 (ms)",
                f"{pct(key_ms, 0.95):.0f}",
                f"n={len(key_ms)}",
                f"<= 100 {_mark(pct(key_ms, 0.95), 100)}",
            ),
            (
                "peak RSS, TUI and workers (MB)",
                f"{ours['rss']:.0f}",
                f"toolong {theirs['rss']:.0f}" if theirs else "",
                "",
            ),
        ]
        for label, mine, peer, target in rows:
            print(f"{label:<46}{mine:>11}{peer:>22}  {target}")
        report_live(path, n, spaced)
    report_follow()
    return 0


def report_live(path: Path, n: int, spaced: bool) -> None:
    """The burst and throughput rows (``--live-only`` runs just these, on both spellings)."""
    burst = burst_on_screen(path, 100_000, spaced)
    rate, cpu_per_line, worker_per_line, none_lost = follow_throughput(path, min(n, 300_000))
    alone, alone_cpu, _, alone_ok = follow_throughput(path, min(n, 300_000), worker=False)
    rows = [
        ("100 k burst appended -> all on screen (s)", f"{burst:.2f}", "", f"<= 1 {_mark(burst, 1.0)}"),
        (
            "follow: lines/s through parse+store+view",
            f"{rate:,.0f}",
            "none lost" if none_lost else "LOST",
            f">= 150k {_mark(rate, 150_000, below=False)}",
        ),
        (
            "  app CPU per line (us) -> lines/s per core",
            f"{cpu_per_line * 1e6:.1f}",
            f"{1 / cpu_per_line:,.0f}/s",
            "(load-independent)",
        ),
        (
            "  parse worker CPU per line (us)",
            f"{worker_per_line * 1e6:.1f}",
            f"{1 / worker_per_line:,.0f}/s" if worker_per_line else "no worker",
            "(its own core)",
        ),
        (
            "  same run, all parsed in-process: lines/s",
            f"{alone:,.0f}",
            f"{alone_cpu * 1e6:.1f} us/line" + ("" if alone_ok else " LOST"),
            f"worker {rate / alone:.2f}x",
        ),
    ]
    for label, mine, peer, target in rows:
        print(f"{label:<46}{mine:>11}{peer:>22}  {target}")


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
