"""TraceForest: incremental summaries, span trees by ids or by start/complete pairs, failing spans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from agent_tui.model.session import LogModel
from agent_tui.model.traces.forest import failing_span
from agent_tui.schema import Level
from agent_tui.sources.base import LineBatch

T0 = 1_772_582_400.0
CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"


def line(t: float, event: str, level: str = "info", **extra: Any) -> bytes:
    """One wire-schema line at ``T0 + t`` seconds."""
    ms = round(t * 1000)
    stamp = f"2026-03-04T00:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}Z"
    return orjson.dumps({"ts": stamp, "level": level, "event": event, **extra})


def ingest(model: LogModel, *lines: bytes) -> set[str]:
    """Ingest lines as one batch of a file-less source; return the touched traces."""
    return model.ingest(LineBatch("agent", list(lines))).touched_traces


def test_summary_counts_times_status_and_sums() -> None:
    """A trace's counts, first/last time, duration and money/token sums accumulate over batches."""
    model = LogModel()
    usage: dict[str, Any] = {"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 20}
    usage["cost_usd"] = 0.25
    touched = ingest(
        model,
        line(0, "trace.start", trace_id="t1", span_id="a", op="agent.tick"),
        line(1, "llm.response", trace_id="t1", span_id="b", parent_span_id="a", op="llm.call",
             **usage),
        line(2, "bet.placed", trace_id="t1", span_id="c", parent_span_id="a", amount_usdc=5.5),
        line(2.5, "unrelated"),
    )  # fmt: skip
    assert touched == {"t1"}
    ingest(
        model,
        line(3, "bet.settled", trace_id="t1", span_id="c", payout_usdc=11, amount_usdc=True),
        line(4, "trace.complete", trace_id="t1", span_id="a", duration_ms=4000),
    )
    trace = model.traces.get("t1")
    assert trace is not None
    assert (trace.record_count, trace.error_count, trace.status, trace.op) == (5, 0, "ok", "agent.tick")
    assert trace.start == pytest.approx(T0) and trace.duration_ms == pytest.approx(4000)
    assert trace.tokens == 120 and trace.cost_usd == pytest.approx(0.25)
    assert (trace.amount_usdc, trace.payout_usdc) == pytest.approx((5.5, 11))


def test_trace_without_end_is_running_then_ok() -> None:
    """A started trace is running until its complete line arrives."""
    model = LogModel()
    ingest(model, line(0, "trace.start", trace_id="t", span_id="a", op="tick"))
    trace = model.traces.get("t")
    assert trace is not None and trace.status == "running"
    assert trace.roots[0].status == "running"
    ingest(model, line(1, "trace.complete", trace_id="t", span_id="a"))
    assert (trace.status, trace.roots[0].status) == ("ok", "ok")


def test_error_and_critical_status() -> None:
    """Error lines make a trace red; a critical line outranks them; trace.failed alone is an error."""
    model = LogModel()
    ingest(
        model,
        line(0, "x", "error", trace_id="e"),
        line(0, "x", "error", trace_id="c"),
        line(1, "y", "critical", trace_id="c"),
        line(0, "trace.start", trace_id="f", span_id="r"),
        line(1, "trace.failed", "info", trace_id="f", span_id="r"),
    )
    statuses = {t.trace_id: t.status for t in model.traces.traces()}
    assert statuses == {"e": "error", "c": "critical", "f": "error"}
    c = model.traces.get("c")
    assert c is not None and (c.error_count, c.critical_count) == (2, 1)


def test_span_tree_by_ids_and_late_parent_reroots_orphans() -> None:
    """Children arriving before their parent are roots until the parent shows up, then move under it."""
    model = LogModel()
    ingest(
        model,
        line(1, "tool.call", trace_id="t", span_id="child", parent_span_id="root", op="tool"),
        line(2, "tool.deeper", trace_id="t", span_id="leaf", parent_span_id="child", op="leaf"),
    )
    trace = model.traces.get("t")
    assert trace is not None
    assert [s.span_id for s in trace.roots] == ["child"]
    assert [c.span_id for c in trace.roots[0].children] == ["leaf"]
    ingest(model, line(0, "trace.start", trace_id="t", span_id="root", op="agent.tick"))
    assert [s.span_id for s in trace.roots] == ["root"]
    root = trace.roots[0]
    assert [c.span_id for c in root.children] == ["child"]
    assert root.children[0].children[0].events == [1]
    assert trace.op == "agent.tick"
    assert model.traces.span_of(1) is root.children[0].children[0]


def test_span_cycles_do_not_hang_or_lose_spans() -> None:
    """Spans naming each other as parents still all appear in the tree."""
    model = LogModel()
    ingest(
        model,
        line(0, "a", trace_id="t", span_id="x", parent_span_id="y"),
        line(1, "b", trace_id="t", span_id="y", parent_span_id="x"),
    )
    trace = model.traces.get("t")
    assert trace is not None
    seen = []
    stack = list(trace.roots)
    while stack:
        span = stack.pop()
        seen.append(span.span_id)
        stack.extend(span.children)
    assert sorted(seen) == ["x", "y"]


def test_spans_from_start_complete_pairs_without_span_ids() -> None:
    """Without span ids, ops between trace.start and trace.complete become nested spans."""
    model = LogModel()
    ingest(
        model,
        line(0, "trace.start", trace_id="t", op="agent.tick"),
        line(1, "thinking", trace_id="t"),
        line(2, "trace.start", trace_id="t", op="casino.place_bet"),
        line(3, "bet.rejected", "error", trace_id="t",
             error={"type": "BetRejected", "message": "odds moved", "traceback": ["tb"]}),
        line(4, "trace.failed", "error", trace_id="t", op="casino.place_bet"),
        line(5, "trace.complete", trace_id="t", op="agent.tick"),
    )  # fmt: skip
    trace = model.traces.get("t")
    assert trace is not None
    (root,) = trace.roots
    assert root.op == "agent.tick" and root.events == [0, 1, 5] and root.status == "ok"
    (bet,) = root.children
    assert bet.op == "casino.place_bet" and bet.events == [2, 3, 4] and bet.status == "error"
    assert trace.status == "error" and trace.op == "agent.tick"
    failing = failing_span(trace)
    assert failing is bet and failing.error is not None and failing.error.type == "BetRejected"


def test_failing_span_is_the_deepest_failed_span() -> None:
    """failing_span picks the deepest red span, not the root it propagated to; none for a green trace."""
    model = LogModel()
    ingest(
        model,
        line(0, "trace.start", trace_id="t", span_id="r", op="root"),
        line(1, "step", trace_id="t", span_id="m", parent_span_id="r", op="mid"),
        line(2, "boom", "error", trace_id="t", span_id="d", parent_span_id="m", op="deep",
             error={"type": "KeyError", "message": "'x'"}),
        line(3, "trace.failed", "error", trace_id="t", span_id="r"),
        line(0, "fine", trace_id="green", span_id="g"),
    )  # fmt: skip
    trace = model.traces.get("t")
    assert trace is not None
    span = model.traces.failing_span(trace)
    assert span is not None and span.span_id == "d" and span.error is not None
    green = model.traces.get("green")
    assert green is not None and failing_span(green) is None


def test_traces_listed_newest_activity_first_and_trace_of() -> None:
    """traces() orders by latest record; trace_of maps a record to its trace."""
    model = LogModel()
    ingest(model, line(0, "a", trace_id="old"), line(1, "b", trace_id="new"), line(2, "c"))
    ingest(model, line(3, "d", trace_id="old"))
    assert [t.trace_id for t in model.traces.traces()] == ["old", "new"]
    trace = model.traces.trace_of(1)
    assert trace is not None and trace.trace_id == "new"
    assert model.traces.trace_of(2) is None


def test_out_of_order_batch_times() -> None:
    """A batch whose times go backwards still gets the right first and last time per trace."""
    model = LogModel()
    ingest(model, line(5, "a", trace_id="t"), line(1, "b", trace_id="t"), line(9, "c", trace_id="t"))
    trace = model.traces.get("t")
    assert trace is not None
    assert (trace.start, trace.end) == pytest.approx((T0 + 1, T0 + 9))


def test_corpus_traces_match_ground_truth() -> None:
    """The structlog recording yields the expected traces and per-trace record counts."""
    expected = orjson.loads((CORPUS / "expected.json").read_bytes())["structlog.jsonl"]
    model = LogModel()
    model.ingest(LineBatch("structlog", (CORPUS / "structlog.jsonl").read_bytes().splitlines()))
    counts = {t.trace_id: t.record_count for t in model.traces.traces()}
    assert counts == expected["lines_per_trace_id"]
    red = [t for t in model.traces.traces() if t.status in ("error", "critical")]
    assert red and all(failing_span(t) is not None for t in red)
    assert sum(t.tokens for t in model.traces.traces()) > 0


def test_trace_whose_records_were_evicted_is_forgotten() -> None:
    """Once all its records are evicted a trace leaves the forest and an old handle says why."""
    model = LogModel(max_records=1000)
    ingest(model, line(0, "first", trace_id="old"))
    old = model.traces.get("old")
    assert old is not None and old.record_count == 1
    for chunk in range(3):
        ingest(model, *[line(1 + chunk, f"e{i}", trace_id=f"t{chunk}-{i // 50}") for i in range(1000)])
    assert model.traces.get("old") is None
    assert "old" not in {t.trace_id for t in model.traces.traces()}
    with pytest.raises(LookupError, match="evicted"):
        _ = old.record_count


def test_trace_rows_share_the_store_ids_until_either_is_compacted() -> None:
    """Trace rows reuse the store's interned id objects while both number traces alike, and stay right
    once evictions renumber the store's ids and the forest's rows."""
    model = LogModel(max_records=2000)
    ingest(model, *[line(0, "e", trace_id=f"a{i}") for i in range(1000)])
    index, ids = model.traces._index, model.store.ids
    assert all(index[t] is ids[t] for t in index) and len(index) == 1000
    for chunk in range(1, 12):
        ingest(model, *[line(chunk, "e", trace_id=f"b{chunk}-{i}") for i in range(1000)])
    assert model.store.ids is not ids and model.traces.get("a0") is None and len(model.traces) == 2000
    for chunk in (10, 11):
        for k in (0, 999):
            trace = model.traces.get(f"b{chunk}-{k}")
            assert trace is not None and trace.record_count == 1
            assert model.store.trace_id(trace.first_seq) == f"b{chunk}-{k}"


def test_max_level_is_the_most_severe_record_of_each_trace_across_batches() -> None:
    """A trace's max_level rises with later batches and never falls; traces without ids are not counted."""

    def rec(level: str, trace_id: str | None) -> bytes:
        extra = f',"trace_id":"{trace_id}"' if trace_id else ""
        return f'{{"ts":"2026-03-04T00:00:00Z","level":"{level}","event":"e"{extra}}}'.encode()

    model = LogModel()
    model.ingest(LineBatch("a", [rec("debug", "t1"), rec("info", "t2"), rec("critical", None)]))
    model.ingest(LineBatch("a", [rec("warning", "t1"), rec("debug", "t2"), rec("error", "t3")]))
    levels = {t.trace_id: t.max_level for t in model.traces.traces()}
    assert levels == {"t1": Level.WARNING, "t2": Level.INFO, "t3": Level.ERROR}


def _mixed_traces() -> list[bytes]:
    """Interleaved traces with nested spans, late roots, failures, unsorted times, errors and sums."""
    traces: list[list[bytes]] = []
    for n in range(12):
        tid = f"t{n}"
        root = {"trace_id": tid, "span_id": f"{n:04d}000000000001", "op": "agent.tick"}
        child = {"trace_id": tid, "span_id": f"{n:04d}000000000002", "parent_span_id": root["span_id"]}
        t = n * 0.7
        out = []
        if n % 3 == 0:  # a child span starts before its trace's root span (the root names the trace)
            out.append(line(t, "trace.start", **child, op="llm.call"))
        out.append(line(t + 0.1, "trace.start", **root))
        out.append(line(t + 0.05 * (n % 4), "llm.response", **child, cost_usd=0.001 * n, tokens=3 * n))
        out.append(line(t + 0.3, "bet.placed", level="error" if n % 5 == 0 else "info", **child,
                        amount_usdc=1.5 * n))  # fmt: skip
        if n % 3 == 0:
            out.append(line(t + 0.35, "trace.complete", **child))
        end = "trace.failed" if n % 4 == 1 else "trace.complete"
        out.append(line(t + 0.4 + n * 0.01, end, level="critical" if n == 7 else "info", **root))
        out.append(line(t + 0.2, "note"))
        traces.append(out)
    # Three traces at a time, round robin: each trace spans several batches of the smaller sizes.
    lines: list[bytes] = []
    for group in range(0, 12, 3):
        members = traces[group : group + 3]
        for step in range(max(map(len, members))):
            lines.extend(member[step] for member in members if step < len(member))
    return lines


@pytest.mark.parametrize("size", [1, 2, 5, 1000])
def test_trace_summaries_do_not_depend_on_batch_size(size: int) -> None:
    """Every summary field of every trace is the same whether its records come in one batch or many."""

    def summaries(batch_size: int) -> list[tuple[object, ...]]:
        model = LogModel()
        lines = _mixed_traces()
        for at in range(0, len(lines), batch_size):
            model.ingest(LineBatch("agent", lines[at : at + batch_size]))
        return sorted(
            (t.trace_id, t.status, t.op, t.start, t.end, t.first_seq, t.last_seq, t.record_count,
             t.error_count, t.critical_count, t.max_level, t.amount_usdc, t.cost_usd, t.tokens)
            for t in model.traces.traces()
        )  # fmt: skip

    whole = summaries(10_000)
    assert len(whole) == 12 and {row[2] for row in whole} == {"agent.tick"}
    assert {row[1] for row in whole} == {"ok", "error", "critical"}
    assert summaries(size) == whole


def test_rollup_reads_the_columns_as_the_trace_properties_do() -> None:
    """``rollup`` (what ``stats`` prints) gives the counts, totals, slowest and costliest traces that
    reading every ``Trace`` property gives, ties broken the same way, on running, failed and equal-length
    traces with and without costs."""
    model = LogModel()
    lines = []
    for k in range(40):
        tid = f"t{k}"
        lines.append(line(k, "trace.start", trace_id=tid, span_id="a", op="agent.tick"))
        if k % 3:
            lines.append(line(k + k % 4, "llm.response", trace_id=tid, span_id="b", parent_span_id="a",
                              cost_usd=0.5 * (k % 5), amount_usdc=k % 7, output_tokens=k))  # fmt: skip
        if k % 5 == 0:
            lines.append(line(k + 2, "tool.failed", "error", trace_id=tid, span_id="c", parent_span_id="a"))
        if k % 4:
            lines.append(line(k + k % 4, "trace.complete", trace_id=tid, span_id="a"))
    for corpus in sorted(CORPUS.glob("*.jsonl")):
        lines.extend(corpus.read_bytes().splitlines())
    ingest(model, *lines)
    traces = model.traces.traces()
    rollup = model.traces.rollup(7)
    assert rollup.count == len(traces) > 40
    assert rollup.failed == sum(1 for t in traces if t.status in ("error", "critical")) > 0
    assert rollup.running == sum(1 for t in traces if t.status == "running") > 0
    assert rollup.totals == {
        "amount_usdc": sum(t.amount_usdc or 0 for t in traces),
        "payout_usdc": sum(t.payout_usdc or 0 for t in traces),
        "tokens": sum(t.tokens or 0 for t in traces),
        "cost_usd": sum(t.cost_usd or 0 for t in traces),
    }
    slowest = sorted(traces, key=lambda t: t.duration_ms, reverse=True)[:7]
    costliest = sorted((t for t in traces if t.cost_usd), key=lambda t: t.cost_usd, reverse=True)[:7]
    assert [t.trace_id for t in rollup.slowest] == [t.trace_id for t in slowest]
    assert [t.trace_id for t in rollup.costliest] == [t.trace_id for t in costliest]
