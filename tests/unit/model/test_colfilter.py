"""Column-evaluated filters give exactly the records the per-record predicate gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from agent_tui.model.query import Filter, compile_filter
from agent_tui.model.query.checks import RECORD_FIELDS
from agent_tui.model.query.filter import compile_ast
from agent_tui.model.query.nodes import Compare, Exists, Field, Str
from agent_tui.model.session import LogModel
from agent_tui.model.views.colfilter import split_and, supported
from agent_tui.model.views.filtered import FilteredView, StoreSubject
from agent_tui.schema import Level
from agent_tui.sources.base import LineBatch

T0 = 1772582400.0  # 2026-03-04T00:00:00Z


def corpus() -> list[bytes]:
    """A mix of wire lines, pino numbers, missing fields, raw text and OTLP-free odd values."""
    out: list[bytes] = []
    levels: list[Any] = ["debug", "info", "warning", "error", "critical", 30, 50, "WARN", "fatal", None]
    for k in range(400):
        obj: dict[str, Any] = {"ts": T0 + k, "event": f"bet.{['placed', 'complete', 'failed'][k % 3]}"}
        level = levels[k % len(levels)]
        if level is not None:
            obj["level"] = level
        if k % 4:
            obj["trace_id"] = f"t{k % 7}"
        if k % 5 == 0:
            obj["op"] = f"op{k % 3}"
        if k % 11 == 0:
            obj["amount_usdc"] = k
        if k % 13 == 0:
            del obj["ts"]
        out.append(orjson.dumps(obj))
        if k % 17 == 0:
            out.append(b"plain text line bet.complete level error " + str(k).encode())
    return out


FILTERS = [
    "level >= error",
    "level < warning",
    "level == info",
    "level in [debug, critical]",
    'level =~ "ERR"',
    'trace_id == "t3"',
    'trace_id != "t3"',
    "trace_id == null",
    'trace_id in ["t1", "t2"]',
    "exists(trace_id)",
    'event == "bet.complete"',
    'event =~ "complete|failed"',
    'msg contains "plac"',
    'op == "op1"',
    "op == null",
    "not op",
    "not .op",
    f"ts >= {T0 + 100}",
    f"ts < {T0 + 50} or level >= critical",
    'ts > "2026-03-04T00:05:00Z"',
    'level >= warning and trace_id == "t1"',
    'not (event == "bet.placed" or level <= info)',
    "level >= error and amount_usdc > 100",
    'trace_id == "t2" and bet',
    "amount_usdc >= 0 or level >= error",
    "amount_usdc > 100",
    "exists(amount_usdc) and not .op",
    "amount_usdc != 11",
    "amount_usdc == null",
    "amount_usdc in [11, null]",
    "error",
    "trace:(level >= error)",
    'trace:(event == "bet.failed" and amount_usdc > 10)',
]


def brute(model: LogModel, text: str, min_level: Level | None) -> list[int]:
    """The seqs the per-record path keeps (level floor, then the predicate on a full subject)."""
    f = compile_filter(text, now=lambda: T0 + 1000)
    store = model.store
    order = list(store.time_order())
    ok = [s for s in order if min_level is None or store.record(s).level >= min_level]
    if not f.trace_scoped:
        return [s for s in ok if f.matches(StoreSubject(store, s))]
    inner = f.inner or f
    traces = {
        store.record(s).trace_id
        for s in order
        if store.record(s).trace_id is not None and inner.matches(StoreSubject(store, s))
    }
    return [s for s in ok if store.record(s).trace_id in traces]


@pytest.fixture(scope="module")
def model() -> LogModel:
    """One model over the corpus, ingested in two batches (so updates are exercised too)."""
    lines = corpus()
    m = LogModel()
    m.store.names.cap = 4  # names past the cap live only in the line: those rows are unsure
    m.ingest(LineBatch("a", lines[:200]))
    m.ingest(LineBatch("a", lines[200:]))
    return m


@pytest.mark.parametrize("text", FILTERS)
@pytest.mark.parametrize("min_level", [None, Level.WARNING])
def test_view_matches_per_record_path(model: LogModel, text: str, min_level: Level | None) -> None:
    """Every filter keeps the same seqs through the column path as through the per-record predicate."""
    f = compile_filter(text, now=lambda: T0 + 1000)
    view = FilteredView(model, f, min_level)
    assert list(view) == brute(model, text, min_level)


@pytest.mark.parametrize("step", [37, 3])
def test_incremental_updates_match_recompute(step: int) -> None:
    """A view updated batch by batch (batches larger and smaller than the trace count) is the slow path."""
    lines = corpus()
    m = LogModel()
    views = {t: FilteredView(m, compile_filter(t, now=lambda: T0 + 1000)) for t in FILTERS}
    for start in range(0, len(lines), step):
        result = m.ingest(LineBatch("a", lines[start : start + step]))
        for view in views.values():
            view.update(result)
    for text, view in views.items():
        assert list(view) == brute(m, text, None), text


def test_split_and_separates_column_conditions() -> None:
    """Only conditions on normalised fields are evaluated from columns; attribute ones are not."""
    cols, rest = split_and(compile_filter("level >= error and amount_usdc > 1 and not .op").ast)
    assert [str(c) for c in cols] == ["level >= error", "not .op"]
    assert str(rest) == "amount_usdc > 1"
    two = split_and(compile_filter('level >= error and a > 1 and b == "x"').ast)[1]
    assert str(two) == 'a > 1 and b == "x"'
    assert split_and(compile_filter("level >= error").ast)[1] is None
    assert not supported(compile_filter('span_id == "x"').ast)


FORMATS = Path(__file__).resolve().parents[2] / "fixtures" / "formats"


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FORMATS.iterdir() if not p.name.endswith(".json") and p.is_file())
)
def test_attribute_key_prefilter_keeps_every_match_in_every_format(name: str) -> None:
    """``exists(key)`` / ``key != null`` keep exactly the slow path's records for every attribute key of
    every format, nested shapes (whose keys are rebuilt from inner parts) included."""
    lines = (FORMATS / name).read_bytes().splitlines()
    m = LogModel()
    m.ingest(LineBatch("a", lines))
    store = m.store
    every = {k for s in range(store.first_seq, store.end_seq) for k in store.attrs(s)}
    keys = sorted(k for k in every if (k,) not in RECORD_FIELDS)
    assert keys
    for key in keys:
        for node in (Exists(Field((key,))), Compare(Field((key,)), "contains", Str("e"))):
            f = compile_ast(node, now=lambda: T0)
            assert list(FilteredView(m, f)) == brute_filter(m, f), (name, str(node))


def brute_filter(model: LogModel, f: Filter) -> list[int]:
    """The seqs a compiled (non-scoped) filter keeps on the per-record path."""
    store = model.store
    return [s for s in store.time_order() if f.matches(StoreSubject(store, s))]
