"""A burst appended to a followed file, parsed by the live parse worker: the records in-process parsing
gives, in order, and no worker process left once the app exits."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import orjson
from textual.pilot import Pilot

from agent_tui.model.clock import FrozenClock
from agent_tui.model.session import LogModel
from agent_tui.sources.base import LineBatch
from agent_tui.sources.factory import open_source
from agent_tui.sources.options import SourceOptions
from agent_tui.tui.app import AgentTuiApp
from agent_tui.tui.factory import make_app
from agent_tui.tui.livefold import LiveFold
from tests.tui.conftest import T0, fleet_lines
from tests.unit.model.test_live_ingest import _signal_lines, _summary

DEADLINE_S = 60.0


def _burst(rounds: int) -> list[bytes]:
    """Traces, errors, raw and untimed lines, retries and sums, with fresh trace ids each round."""
    out: list[bytes] = []
    for r in range(rounds):
        for raw in [*fleet_lines(), *_signal_lines()]:
            out.append(raw.replace(b'"t', b'"r%d_t' % r, 1) if raw.startswith(b"{") else raw)
        out.append(orjson.dumps({"level": "error", "event": f"untimed.{r}", "trace_id": f"r{r}_untimed"}))
        out.append(b'{"ts": "2026-03-04T00:00:09Z", "level": "info", "event": "spaced", "n": %d}' % r)
    return out


async def _until(pilot: Pilot[int], done: object, what: str) -> None:
    """Let the app run until ``done()`` holds (bounded by DEADLINE_S)."""
    limit = time.monotonic() + DEADLINE_S
    while not done():  # type: ignore[operator]
        assert time.monotonic() < limit, what
        await pilot.pause()
        await asyncio.sleep(0.01)


def _followed_app(path: Path, *, worker: bool) -> AgentTuiApp:
    app = make_app(
        [open_source(str(path), SourceOptions(follow=True))],
        follow=True,
        clock=FrozenClock(T0),
        environ={},
    )
    # Every live batch to the worker, or none: the two runs the test compares.
    app.live = LiveFold(
        app.inbox, app.wake, rate=0 if worker else float("inf"), backlog_lines=0 if worker else 1 << 40
    )
    return app


def _append(path: Path, lines: list[bytes]) -> None:
    with path.open("ab") as out:
        out.write(b"".join(line + b"\n" for line in lines))


async def _run(path: Path, lines: list[bytes], *, worker: bool) -> tuple[dict[str, object], int, int]:
    """Follow ``path``, append ``lines`` in three writes (the last two once a worker answers), wait for
    them all on screen; the model's summary, the worker's pid and the lines it parsed."""
    app = _followed_app(path, worker=worker)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.source_states[str(path)][0] == "following", "never followed")
        third = len(lines) // 3
        _append(path, lines[:third])
        if worker:
            await _until(pilot, lambda: app.live.worker is not None and app.live.worker.ready, "no worker")
        _append(path, lines[third : 2 * third])
        _append(path, lines[2 * third :])
        await _until(pilot, lambda: len(app.model.store) >= len(lines), "lines missing")
        await _until(pilot, lambda: app.logs.row_count == len(lines), "rows not on screen")
        summary = _summary(app.model)
        pid = app.live.worker.pid if app.live.worker is not None else 0
    return summary, pid, app.live.sent_lines


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


async def test_burst_through_the_worker_gives_the_records_of_in_process_parsing(tmp_path: Path) -> None:
    """The same lines followed twice, once all parsed in-process, once all by the worker: identical records
    (in order), counts, trace sums and flags, every line on screen; the worker is gone after the exit."""
    lines = _burst(40)
    for name in ("local.jsonl", "remote.jsonl"):
        (tmp_path / name).write_bytes(b"")
    local, _, none_sent = await _run(tmp_path / "local.jsonl", lines, worker=False)
    remote, pid, sent = await _run(tmp_path / "remote.jsonl", lines, worker=True)
    assert none_sent == 0, "the in-process run used the worker"
    assert sent >= len(lines) * 2 // 3, "the worker parsed too little of the burst"
    assert _gone(pid)
    assert len(local["records"]) == len(lines)  # type: ignore[arg-type]
    assert remote == local
    with LogModel(clock=FrozenClock(T0), following=True) as model:
        model.ingest(LineBatch("x", lines))
        assert _summary(model)["records"] == local["records"]


async def test_a_worker_killed_mid_burst_loses_nothing(tmp_path: Path) -> None:
    """The worker killed while it holds batches: they are parsed in-process from the state it last
    returned, so the model still has exactly the records of in-process parsing."""
    lines = _burst(40)
    expected_path, path = tmp_path / "local.jsonl", tmp_path / "killed.jsonl"
    for name in (expected_path, path):
        name.write_bytes(b"")
    expected, _, _ = await _run(expected_path, lines, worker=False)
    app = _followed_app(path, worker=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.source_states[str(path)][0] == "following", "never followed")
        half = len(lines) // 2
        _append(path, lines[:100])
        await _until(pilot, lambda: app.live.worker is not None and app.live.worker.ready, "no worker")
        _append(path, lines[100:half])
        await _until(pilot, lambda: app.live.sent_lines > 0, "nothing sent to the worker")
        worker = app.live.worker
        assert worker is not None
        # Stopped, it holds what is sent next unanswered; killed then, those batches are lost with it.
        os.kill(worker.pid, signal.SIGSTOP)
        sent = app.live.sent_lines
        _append(path, lines[half:])
        await _until(pilot, lambda: app.live.sent_lines > sent, "nothing sent to the stopped worker")
        assert app.live.pending_lines > 0
        os.kill(worker.pid, signal.SIGKILL)
        await _until(pilot, lambda: app.logs.row_count == len(lines), "rows not on screen")
        assert worker.ended
        assert _summary(app.model) == expected
