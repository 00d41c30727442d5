"""Live ingest (projected lines, partial attributes for sums and signals) indexes what a file load does."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from agent_tui.model.clock import FrozenClock
from agent_tui.model.parsing.parse import LineParser
from agent_tui.model.session import LineParserLike, LogModel
from agent_tui.sources.base import LineBatch
from tests.unit.model.spellings import respelled

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FILES = sorted(
    [
        *(p for p in (FIXTURES / "formats").iterdir() if p.is_file() and not p.name.endswith(".json")),
        FIXTURES / "formats" / "journald.json",
        *(FIXTURES / "corpus").glob("*.jsonl"),
        FIXTURES / "hostile.jsonl",
    ]
)


def _signal_lines() -> list[bytes]:
    """Retries, rate limits, repeated tool calls, money and tokens: every input flags and sums read."""
    out: list[dict[str, Any] | bytes] = []
    for i in range(12):
        tid = f"trace{i % 3}"
        base = {"ts": f"2026-03-04T03:21:{i:02d}.500Z", "trace_id": tid, "agent_id": f"agent-{i % 2}"}
        out += [
            f"plain text retry {i} of http.get: WARN".encode(),
            {**base, "level": "warning", "event": "http.retry", "attempt": i % 4 + 1, "status_code": 503},
            {**base, "level": "warning", "event": "llm.call", "status": "429", "model": "m1"},
            {**base, "level": "info", "event": "tool.call", "tool": "search", "query": "same", "call_id": i},
            {**base, "level": "info", "event": "bet.placed", "amount_usdc": 1.5 * i, "cost_usd": 0.25},
            {**base, "level": "info", "event": "llm.done", "usage": {"input_tokens": i, "output_tokens": 3}},
            {**base, "level": "info", "event": "gen", "prompt_tokens": 2, "completion_tokens": i},
            {**base, "level": "info", "event": "http", "http_status": 200, "retries": i % 2},
        ]
    # Each trace starts before its records and ends after them (how flags count a trace's calls).
    first, last = "2026-03-04T03:20:59Z", "2026-03-04T03:21:59Z"
    starts = [
        {"ts": first, "level": "info", "event": "trace.start", "trace_id": f"trace{t}", "op": "tick"}
        for t in range(3)
    ]
    ends = [
        {"ts": last, "level": "error", "event": "trace.failed", "trace_id": f"trace{t}"} for t in range(3)
    ]
    return [
        r if isinstance(r, bytes) else json.dumps(r, separators=(",", ":")).encode()
        for r in [*starts, *out, *ends]
    ]


CASES = [(f"{p.parent.name}/{p.name}", p.read_bytes().splitlines()) for p in FILES] + [
    ("signals", _signal_lines())
]


def _spellings(lines: list[bytes]) -> Iterator[tuple[str, list[bytes]]]:
    """The lines compact (``separators=(",", ":")``) and spaced (``json.dumps`` defaults)."""
    return respelled(lines)


def _batches(path: Path, lines: list[bytes], size: int) -> Iterator[LineBatch]:
    """The file's lines in batches of ``size`` with offsets, as a following file source hands them over."""
    st = path.stat()
    offset = 0
    for start in range(0, len(lines), size):
        chunk = lines[start : start + size]
        offsets = []
        for line in chunk:
            offsets.append(offset)
            offset += len(line) + 1
        yield LineBatch(str(path), chunk, offsets, f"{st.st_dev}:{st.st_ino}", str(path))


def _kept_attrs(overrides: Mapping[str, str] | None) -> LineParserLike:
    return LineParser(overrides, keep_attrs=True)


def _summary(model: LogModel) -> dict[str, Any]:
    """Records (times inferred from the clock left out), level counts, per-trace sums and flags."""
    store = model.store
    records = []
    for seq in range(store.first_seq, store.end_seq):
        r = store.record(seq)
        ts = None if r.ts_inferred else r.ts
        records.append((ts, r.level, r.event, r.trace_id, r.span_id, r.parent_span_id, r.op, r.error, r.raw))
    traces = sorted(
        (
            (t.trace_id, t.record_count, t.error_count, t.critical_count, t.status, t.op),
            (t.amount_usdc, t.payout_usdc, t.cost_usd, t.tokens),
        )
        for t in model.traces.traces()
    )
    return {
        "records": records,
        "counts": model.stats.counts(None),
        "traces": traces,
        "flags": model.flags.summary(),
        "errors": store.raw_count,
    }


@pytest.mark.parametrize(("name", "lines"), CASES, ids=[c[0] for c in CASES])
def test_live_ingest_matches_whole_file_load(tmp_path: Path, name: str, lines: list[bytes]) -> None:
    """Batch by batch (1, 7 and all lines), both spellings: same records, counts, trace sums and flags as a
    whole-file load in worker processes and as the parser that keeps every decoded mapping."""
    for spelling, spelled in _spellings(lines):
        path = tmp_path / f"{spelling}.jsonl"
        path.write_bytes(b"".join(line + b"\n" for line in spelled))
        with LogModel(clock=FrozenClock(0.0)) as loaded:
            loaded.load_file(str(path), workers=2, parallel_min_bytes=0)
            expected = _summary(loaded)
        assert expected["records"], (name, spelling)
        with LogModel(clock=FrozenClock(0.0), parser_factory=_kept_attrs) as kept:
            for batch in _batches(path, spelled, 7):
                kept.ingest(batch)
            assert _summary(kept) == expected, (name, spelling, "kept attrs")
        for size in (1, 7, len(spelled)):
            with LogModel(clock=FrozenClock(0.0)) as live:
                for batch in _batches(path, spelled, size):
                    live.ingest(batch)
                assert _summary(live) == expected, (name, spelling, size)


def test_signal_lines_raise_flags_and_sums() -> None:
    """The signal fixture is worth comparing: it raises retry storms and loops and sums money and tokens."""
    with LogModel(clock=FrozenClock(0.0)) as model:
        model.ingest(LineBatch("s", _signal_lines()))
        counts = model.flags.summary()["counts"]
        assert isinstance(counts, dict)
        assert counts["retry_storm"] > 0
        assert counts["agent_loop"] > 0
        trace = model.traces.get("trace1")
        assert trace is not None
        assert trace.amount_usdc > 0 and trace.cost_usd > 0 and trace.tokens > 0
