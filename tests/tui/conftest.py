"""Shared builders for Pilot tests: deterministic fleet lines, an in-memory source, a frozen-clock app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from textual.pilot import Pilot

from agent_tui.model.clock import FrozenClock
from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.tui.app import AgentTuiApp
from agent_tui.tui.factory import make_app
from agent_tui.tui.widgets.filter_bar import FilterBar

T0 = 1772582400.0  # 2026-03-04T00:00:00Z
FAIL_TRACE = "t_fail0001"
TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "casino/client.py", line 88, in place_bet',
    "    resp = await self._post(url, json=payload, timeout=5.0)",
    "TimeoutError: casino API did not answer within 5.0 s",
]


def line(ts: float, level: str, event: str, **fields: Any) -> bytes:
    """One wire-schema JSON line."""
    iso = f"2026-03-04T00:{int(ts - T0) // 60:02d}:{(ts - T0) % 60:06.3f}Z"
    return orjson.dumps({"ts": iso, "level": level, "event": event, **fields})


def fleet_lines() -> list[bytes]:
    """Ok traces, one failing trace with a nested failing span, a warning, a raw line, a critical."""
    out: list[bytes] = []
    t = T0
    for i in range(8):
        tid = f"t_ok{i:06d}"
        agent = f"agent-{i % 3}"
        out.append(
            line(t, "info", "trace.start", agent_id=agent, trace_id=tid, span_id=f"{i:016x}", op="bet.run")
        )
        out.append(
            line(
                t + 0.1,
                "debug",
                "bet.placed",
                agent_id=agent,
                trace_id=tid,
                span_id=f"{i:016x}",
                amount_usdc=10 + i,
            )
        )
        out.append(
            line(
                t + 0.2,
                "info",
                "trace.complete",
                agent_id=agent,
                trace_id=tid,
                span_id=f"{i:016x}",
                op="bet.run",
                duration_ms=200,
            )
        )
        t += 1
    out.append(line(t, "warning", "llm.slow", agent_id="agent-1", latency_ms=4200))
    out.append(b"plain text line that is not json")
    root, child = "a" * 16, "b" * 16
    err = {
        "type": "TimeoutError",
        "message": "casino API did not answer within 5.0 s",
        "traceback": TRACEBACK,
    }
    out.append(
        line(
            t + 1,
            "info",
            "trace.start",
            agent_id="agent-2",
            trace_id=FAIL_TRACE,
            span_id=root,
            op="casino.place_bet",
        )
    )
    out.append(
        line(
            t + 1.1,
            "info",
            "trace.start",
            agent_id="agent-2",
            trace_id=FAIL_TRACE,
            span_id=child,
            parent_span_id=root,
            op="http.post",
        )
    )
    out.append(
        line(
            t + 1.2,
            "error",
            "http.timeout",
            agent_id="agent-2",
            trace_id=FAIL_TRACE,
            span_id=child,
            parent_span_id=root,
            error=err,
        )
    )
    out.append(
        line(
            t + 1.3,
            "error",
            "trace.failed",
            agent_id="agent-2",
            trace_id=FAIL_TRACE,
            span_id=child,
            parent_span_id=root,
            op="http.post",
            duration_ms=5000,
            error=err,
        )
    )
    out.append(
        line(
            t + 1.4,
            "error",
            "trace.failed",
            agent_id="agent-2",
            trace_id=FAIL_TRACE,
            span_id=root,
            op="casino.place_bet",
            duration_ms=5400,
            error=err,
        )
    )
    for i in range(10):
        out.append(line(t + 2 + i * 0.1, "info", "heartbeat", agent_id="agent-0", seq_no=i))
    out.append(
        line(
            t + 4,
            "critical",
            "wallet.key_revoked",
            agent_id="agent-1",
            error={"type": "AuthError", "message": "key revoked"},
        )
    )
    out.append(line(t + 5, "info", "heartbeat", agent_id="agent-0", seq_no=99))
    return out


class QueueSource:
    """A real Source (the Protocol) fed by the test: ``push`` lines, ``end`` to finish."""

    def __init__(self, name: str = "fleet.jsonl") -> None:
        self.name = name
        self.queue: asyncio.Queue[LineBatch | SourceStatus | None] = asyncio.Queue()
        self.closed = False

    def push(self, lines: Sequence[bytes]) -> None:
        """Deliver ``lines`` as one batch."""
        self.queue.put_nowait(LineBatch(source=self.name, lines=list(lines)))

    def status(self, state: SourceState, reason: str = "") -> None:
        """Report a state change."""
        self.queue.put_nowait(SourceStatus(self.name, state, reason))

    def end(self) -> None:
        """Finish the stream."""
        self.queue.put_nowait(None)

    async def stream(self) -> AsyncIterator[LineBatch | SourceStatus]:
        """Yield what the test pushed until ``end``."""
        while (item := await self.queue.get()) is not None:
            yield item

    async def close(self) -> None:
        """Mark closed."""
        self.closed = True


async def until(
    pilot: Pilot[Any], predicate: Callable[[], bool], limit: float = 15.0, what: str = "condition"
) -> None:
    """Poll ``predicate`` between UI turns until true or fail after ``limit`` seconds.

    Every read of what a key, a batch or a timer changes goes through this: a key press, a redraw or
    the stats bar's own 4 Hz refresh may land later than the next frame on a busy machine.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached in {limit} s")
        await pilot.pause(0.02)
    await pilot.pause()


async def open_filter(pilot: Pilot[Any], app: AgentTuiApp) -> FilterBar:
    """Press / and wait until the filter bar's input has focus (keys typed before then go elsewhere)."""
    await pilot.press("slash")
    bar = app.query_one(FilterBar)
    await until(pilot, lambda: app.focused is bar.input, what="focus in the filter bar")
    return bar


async def apply_filter(pilot: Pilot[Any], app: AgentTuiApp, text: str) -> FilterBar:
    """Open the filter bar, replace its text with ``text``, wait until it is all typed, press enter."""
    bar = await open_filter(pilot, app)
    await pilot.press("ctrl+u", *text)
    await until(pilot, lambda: bar.input.value == text, what=f"{text!r} typed")
    await pilot.press("enter")
    return bar


def selected_event(app: AgentTuiApp) -> str | None:
    """The event name of the record selected in the logs view, if any."""
    seq = app.logs.selected_seq
    return None if seq is None else app.model.store.record(seq).event


def screen_text(app: AgentTuiApp) -> str:
    """The visible text of the whole screen, toasts included."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


Build = Callable[..., tuple[AgentTuiApp, "QueueSource"]]


@pytest.fixture
def clock() -> FrozenClock:
    """A clock frozen just after the fleet's last record."""
    return FrozenClock(T0 + 30)


@pytest.fixture
def build(tmp_path: Path, clock: FrozenClock) -> Build:
    """Build the app on a QueueSource with a frozen clock and exports going to ``tmp_path``."""

    def _build(follow: bool = True, **kwargs: Any) -> tuple[AgentTuiApp, QueueSource]:
        source = QueueSource()
        app = make_app([source], clock=clock, follow=follow, export_dir=tmp_path, environ={}, **kwargs)
        return app, source

    return _build
