"""FilteredView: filter and level, incremental updates, trace scope, navigation, reorders, eviction."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from agent_tui.model.query import Filter, compile_filter
from agent_tui.model.session import LogModel
from agent_tui.model.views.filtered import FilteredView
from agent_tui.schema import Level
from agent_tui.sources.base import LineBatch


def line(t: float, event: str = "tick", level: str = "info", **extra: Any) -> bytes:
    """One wire-schema line ``t`` seconds after 2026-03-04T00:00:00Z (t < 1 h)."""
    ms = round(t * 1000)
    stamp = f"2026-03-04T00:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}Z"
    return orjson.dumps({"ts": stamp, "level": level, "event": event, **extra})


def ingest(model: LogModel, *lines: bytes, source: str = "agent") -> Any:
    """Ingest lines as one batch; return the IngestResult."""
    return model.ingest(LineBatch(source, list(lines)))


def counting(text: str) -> tuple[Filter, list[int]]:
    """The real filter for ``text`` with a predicate that also records which seqs it was asked about."""
    real = compile_filter(text)
    seen: list[int] = []

    def matches(subject: Any) -> bool:
        seen.append(subject.seq)
        return real.matches(subject)

    return replace(real, matches=matches), seen


def test_unfiltered_view_is_display_order_and_follows_updates() -> None:
    """With no filter the view is every seq, and update() appends new ones."""
    model = LogModel()
    ingest(model, line(0), line(1))
    view = FilteredView(model)
    assert list(view) == [0, 1]
    view.update(ingest(model, line(2), line(3)))
    assert list(view) == [0, 1, 2, 3] and len(view) == 4 and view[-1] == 3 and view[1:3] == [1, 2]


def test_filter_and_min_level_are_recomputed_and_updated_incrementally() -> None:
    """set_filter/set_min_level recompute; update() evaluates only the new records."""
    model = LogModel()
    ingest(model, line(0, "bet.placed"), line(1, "bet.failed", "error"), line(2, "llm.call"))
    view = FilteredView(model, compile_filter('event ~ "bet"'))
    assert list(view) == [0, 1]
    view.set_min_level(Level.ERROR)
    assert list(view) == [1]
    flt, seen = counting('"bet"')
    view.set_filter(flt)
    assert list(view) == [1] and seen == [1]  # the level test runs first, on columns
    more = [line(3, "bet.lost", "critical"), line(4, "bet.won", "error"), line(5, "x", "error")]
    view.update(ingest(model, *more))
    assert list(view) == [1, 3, 4]
    assert seen == [1, 3, 4, 5]
    view.set_filter(None)
    view.set_min_level(None)
    assert list(view) == [0, 1, 2, 3, 4, 5]


def test_required_substrings_skip_lines_before_parsing() -> None:
    """Lines lacking a required substring never reach the predicate."""
    model = LogModel()
    ingest(model, line(0, "Bet.placed"), line(1, "llm.call"), line(2, "Bet.won"))
    flt, seen = counting('"Bet"')
    assert flt.required_substrings == (b"Bet",)
    view = FilteredView(model, flt)
    assert list(view) == [0, 2] and seen == [0, 2]


def test_attribute_filter_uses_lazy_attrs() -> None:
    """A filter on an extra field reads the line's attributes."""
    model = LogModel()
    ingest(model, line(0, amount_usdc=2), line(1, amount_usdc=9), line(2))
    view = FilteredView(model, compile_filter("amount_usdc > 5"))
    assert list(view) == [1]


def test_span_filters_read_span_ids_from_the_lines() -> None:
    """Span ids are not columns: a filter on them (alone or beside other fields) still sees each line's."""
    model = LogModel()
    a, b = "00000000000000aa", "00000000000000bb"
    ingest(model, line(0, span_id=a), line(1, span_id=b, parent_span_id=a), line(2, level="error"))
    assert list(FilteredView(model, compile_filter(f'span_id == "{b}"'))) == [1]
    assert list(FilteredView(model, compile_filter(f'level >= error or parent_span_id == "{a}"'))) == [1, 2]
    assert list(FilteredView(model, compile_filter("exists(parent_span_id) or amount_usdc > 1"))) == [1]


def test_filters_on_other_fields_skip_the_span_reparse() -> None:
    """A filter that reads no span id gets records without them, so it does not re-parse every line."""
    model = LogModel()
    ingest(model, line(0, span_id="00000000000000aa"), line(1, level="error"))
    f = compile_filter("level >= error or amount_usdc > 5")
    asked: list[str | None] = []

    def matches(subject: Any) -> bool:
        asked.append(subject.record.span_id)
        return f.matches(subject)

    assert list(FilteredView(model, replace(f, matches=matches))) == [1]
    assert asked == [None, None]
    assert model.store.record(0).span_id == "00000000000000aa"


def test_trace_scope_keeps_whole_traces_and_pulls_in_earlier_records() -> None:
    """trace:(…) keeps every record of a trace with a match, including records that came before it."""
    model = LogModel()
    ingest(
        model,
        line(0, "start", trace_id="a"),
        line(1, "start", trace_id="b"),
        line(2, "boom", "error", trace_id="a"),
        line(3, "no trace"),
    )
    view = FilteredView(model, compile_filter("trace:(level >= error)"))
    assert list(view) == [0, 2]
    view.update(ingest(model, line(4, "more", trace_id="a"), line(5, "more", trace_id="b")))
    assert list(view) == [0, 2, 4]
    view.update(ingest(model, line(6, "late failure", "critical", trace_id="b")))
    assert list(view) == [0, 1, 2, 4, 5, 6]
    view.set_min_level(Level.ERROR)
    assert list(view) == [2, 6]


def test_next_error_wraps_and_returns_none_without_errors() -> None:
    """next_error moves forward/backward to error records, wraps at the ends, and is None when none exist."""
    model = LogModel()
    ingest(model, line(0), line(1, level="error"), line(2), line(3, level="critical"), line(4))
    view = FilteredView(model)
    assert view.next_error(0) == 1
    assert view.next_error(1) == 3
    assert view.next_error(3) == 1  # wrapped
    assert view.next_error(3, wrap=False) is None
    assert view.next_error(4, -1) == 3
    assert view.next_error(1, -1) == 3  # wrapped backwards
    assert view.next_error(-1) == 1 and view.next_error(len(view), -1) == 3
    view.set_filter(compile_filter("level < error"))
    assert view.next_error(0) is None
    empty = FilteredView(LogModel())
    assert empty.next_error(0) is None and empty.next_match(lambda s: True, 0) is None


def test_next_error_in_filtered_view_skips_hidden_errors() -> None:
    """An error hidden by the filter is not a stop for next_error."""
    model = LogModel()
    ingest(model, line(0, "a"), line(1, "b", "error"), line(2, "a"), line(3, "a", "error"))
    view = FilteredView(model, compile_filter('event == "a"'))
    assert list(view) == [0, 2, 3]
    assert view.next_error(0) == 2 and view[2] == 3


def test_next_match_and_index_of() -> None:
    """next_match finds the next seq satisfying a predicate; index_of maps seqs to positions."""
    model = LogModel()
    ingest(model, *[line(t, f"e{t}") for t in range(6)])
    view = FilteredView(model, compile_filter('event != "e2"'))
    event_is = {s: model.store.record(s).event for s in range(6)}
    assert view.next_match(lambda s: event_is[s] in ("e1", "e4"), 1) == 3
    assert view.next_match(lambda s: event_is[s] == "e1", 4) == 1
    assert view.next_match(lambda s: event_is[s] == "e5", 0, -1) == 4
    assert view.index_of(3) == 2 and view.index_of(2) is None


def test_view_follows_mid_order_inserts_from_another_source() -> None:
    """When a second source's history lands between existing records, the view re-walks the order."""
    model = LogModel()
    ingest(model, line(0, "a0", "error"), line(2, "a2"), line(4, "a4", "error"), source="a")
    view = FilteredView(model, min_level=Level.ERROR)
    assert list(view) == [0, 2]
    view.update(ingest(model, line(1, "b1", "error"), line(3, "b3"), source="b"))
    assert [model.store.record(s).event for s in view] == ["a0", "b1", "a4"]
    assert view.index_of(3) == 1
    assert view.next_error(0) == 1
    view.update(ingest(model, line(9, "a9", "error"), source="a"))
    assert [model.store.record(s).event for s in view] == ["a0", "b1", "a4", "a9"]


def test_view_drops_evicted_records() -> None:
    """Evicted seqs leave the view."""
    model = LogModel(max_records=2000)
    view = FilteredView(model, min_level=Level.ERROR)
    for chunk in range(6):
        batch = [line(chunk * 10 + i / 100, level="error" if i % 2 else "info") for i in range(1000)]
        view.update(ingest(model, *batch))
    seqs = list(view)
    assert seqs[0] >= model.store.first_seq and len(seqs) == 1000
    assert all(model.store.level(s) == Level.ERROR for s in seqs[:50])


def test_batch_larger_than_the_bound_keeps_bits_aligned() -> None:
    """A single batch bigger than max_records still leaves exactly the passing survivors in view."""
    model = LogModel(max_records=5000)
    view = FilteredView(model, min_level=Level.ERROR)
    batch = [line(1 + i / 1000, f"e{i}", "error" if i % 3 == 0 else "info") for i in range(5500)]
    view.update(ingest(model, *batch))
    view.update(ingest(model, line(9, "last", "error")))
    store = model.store
    assert store.first_seq > 0
    expected = [s for s in range(store.first_seq, store.end_seq) if store.level(s) == Level.ERROR]
    assert list(view) == expected and expected[-1] == store.end_seq - 1
