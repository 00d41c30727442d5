"""Trace context: spans, nesting, failures, async propagation, bind, traceparent, the filter."""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from agent_tui.log import (
    TraceContextFilter,
    bind,
    current_span_id,
    current_trace_id,
    from_traceparent,
    span,
    trace,
    traceparent,
)
from agent_tui.log.testing import capture_records


def test_trace_lines_and_default_ids() -> None:
    """A trace logs start and complete with a 32-hex trace id, a 16-hex span id and duration_ms."""
    with capture_records() as records, trace("casino.place_bet") as tid:
        logging.getLogger("casino").info("bet.complete", extra={"outcome": "win"})
    assert re.fullmatch(r"[0-9a-f]{32}", tid)
    events = [r["event"] for r in records]
    assert events == ["trace.start", "bet.complete", "trace.complete"]
    assert {r["trace_id"] for r in records} == {tid}
    assert re.fullmatch(r"[0-9a-f]{16}", records[1]["span_id"])
    assert records[0]["op"] == "casino.place_bet"
    assert isinstance(records[2]["duration_ms"], float)
    assert current_trace_id() is None


def test_nested_spans_share_trace_and_link_parent() -> None:
    """A span inside a trace keeps the trace id and records the outer span as parent_span_id."""
    with capture_records() as records, trace("outer") as tid:
        outer_span = current_span_id()
        with span("inner"):
            inner_span = current_span_id()
            logging.getLogger("x").info("work")
    work = next(r for r in records if r["event"] == "work")
    assert work["trace_id"] == tid
    assert work["span_id"] == inner_span
    assert work["parent_span_id"] == outer_span
    assert inner_span != outer_span
    outer_start = records[0]
    assert "parent_span_id" not in outer_start


def test_failure_logged_once_and_reraised() -> None:
    """An escaping exception is one error line with its traceback; outer spans end pointing at it."""
    with capture_records() as records, pytest.raises(ZeroDivisionError), trace("outer"), span("inner"):
        _ = 1 / 0
    failed = [r for r in records if r["event"] == "trace.failed"]
    assert [r["op"] for r in failed] == ["inner", "outer"]
    with_error = [r for r in failed if "error" in r]
    assert len(with_error) == 1
    assert with_error[0]["error"]["type"] == "ZeroDivisionError"
    assert with_error[0]["level"] == "error"
    assert failed[1]["error_span_id"] == failed[0]["span_id"]
    assert failed[1]["level"] == "warning"
    assert [r["level"] for r in records].count("error") == 1
    assert all("duration_ms" in r for r in failed)


def test_explicit_trace_id_like_the_seed() -> None:
    """trace(op, trace_id=...) uses the given id and yields it."""
    with capture_records() as records, trace("op", trace_id="t_7f3a2c9d") as tid:
        pass
    assert tid == "t_7f3a2c9d"
    assert records[0]["trace_id"] == "t_7f3a2c9d"
    assert traceparent() is None


def test_decorators_sync_and_async() -> None:
    """span() decorates sync and async functions, each call in its own span."""

    @span("sync.work")
    def work(x: int) -> str | None:
        return current_trace_id()

    @trace("async.work")
    async def awork() -> str | None:
        await asyncio.sleep(0)
        return current_span_id()

    with capture_records() as records:
        first, second = work(1), work(2)
        span_id = asyncio.run(awork())
    assert first and second and first != second
    assert span_id is not None
    assert [r["event"] for r in records].count("trace.complete") == 3


async def test_context_survives_tasks_threads_and_copy_context() -> None:
    """The trace id is visible in create_task, to_thread and copy_context().run inside a thread pool."""
    async with trace("async.op") as tid:
        in_task = await asyncio.create_task(asyncio.sleep(0, current_trace_id()))
        in_thread = await asyncio.to_thread(current_trace_id)
        ctx = contextvars.copy_context()
        with ThreadPoolExecutor(1) as pool:
            in_pool = pool.submit(ctx.run, current_trace_id).result()
    assert in_task == in_thread == in_pool == tid
    assert current_trace_id() is None


async def test_concurrent_tasks_keep_separate_traces() -> None:
    """Two tasks tracing at the same time never see each other's ids."""

    async def one(name: str) -> tuple[str, str | None]:
        async with trace(name) as tid:
            await asyncio.sleep(0.01)
            return tid, current_trace_id()

    results = await asyncio.gather(one("a"), one("b"))
    assert all(tid == seen for tid, seen in results)
    assert results[0][0] != results[1][0]


def test_traceparent_round_trip() -> None:
    """traceparent() emits a W3C header that from_traceparent/trace(traceparent=) continue."""
    with trace("client") as tid:
        header = traceparent()
        client_span = current_span_id()
    assert header == f"00-{tid}-{client_span}-01"
    assert from_traceparent(header) == (tid, client_span)
    with capture_records() as records, trace("server", traceparent=header) as server_tid:
        pass
    assert server_tid == tid
    assert records[0]["parent_span_id"] == client_span
    assert from_traceparent("00-" + "0" * 32 + "-" + "1" * 16 + "-01") is None
    assert from_traceparent("garbage") is None
    with trace("fresh", traceparent="nonsense") as fresh:
        assert fresh != tid


def test_bind_as_context_manager_and_token() -> None:
    """bind() adds fields to every line until reset, and nested binds layer."""
    log = logging.getLogger("bound")
    with capture_records() as records:
        with bind(user="u1", session="s"):
            token = bind(user="u2")
            log.info("a")
            token.reset()
            log.info("b", extra={"session": "explicit"})
        log.info("c")
    assert records[0]["user"] == "u2"
    assert records[1]["user"] == "u1"
    assert records[1]["session"] == "explicit"
    assert "user" not in records[2]


def test_filter_injects_context_for_third_party_handlers() -> None:
    """TraceContextFilter puts trace_id/span_id/bound fields on records for any formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(trace_id)s %(span_id)s %(tenant)s %(message)s"))
    handler.addFilter(TraceContextFilter())
    lib = logging.Logger("thirdparty", logging.INFO)
    lib.addHandler(handler)
    with trace("op") as tid, bind(tenant="acme"):
        lib.info("hello")
        span_id = current_span_id()
    assert stream.getvalue().strip() == f"{tid} {span_id} acme hello"
