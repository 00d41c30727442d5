"""The compiled fold helpers (``_rowscan.per_trace``, ``intern_all``) give what their Python twins give."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_tui.model.parsing import columns as parsing_columns
from agent_tui.model.parsing._rowscan import per_trace as compiled
from agent_tui.model.parsing.columns import Interner, empty_appended, newest_time
from agent_tui.model.traces import columns
from agent_tui.model.traces.columns import _PerTrace


@contextmanager
def _python_only() -> Iterator[None]:
    columns.per_trace = None
    try:
        yield
    finally:
        columns.per_trace = compiled


def _fields(b: _PerTrace) -> dict[str, Any]:
    """What the fold reads: counts in order (new traces are numbered so), the rest by trace id."""
    ids = [t for t in b.counts if t is not None]
    looked = {name: {t: getattr(b, name)[t] for t in ids} for name in ("last_k", "first_k", "top")}
    times = {name: {t: getattr(b, name).get(t) for t in ids} for name in ("lo", "hi")}
    for per in times.values():
        for t, v in per.items():
            if v is not None and math.isnan(v):
                per[t] = "nan"
    return {"counts": list(b.counts.items()), **looked, **times}


_IDS = st.sampled_from(["t1", "t2", "t3", "a" * 32, None])


@settings(max_examples=400, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            _IDS,
            st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, -0.0, 1e300, math.nan, 5.0])),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=40,
    ),
    as_array=st.booleans(),
    copies=st.booleans(),
)
def test_the_compiled_pass_gives_what_the_python_passes_give(
    rows: list[tuple[str | None, float, int]], as_array: bool, copies: bool
) -> None:
    """Any ids (None among them, equal ids as distinct objects), times (sorted or not, NaN, huge) and
    levels: the same counts in the same order, first and last records, times and worst levels."""
    tids = [("".join(t) if copies and t is not None else t) for t, _, _ in rows]
    times = [t for _, t, _ in rows]
    levels = bytes(level for _, _, level in rows)
    for ts_sorted in (True, False):
        if ts_sorted:
            times = sorted(times, key=lambda t: (math.isnan(t), t))
        ts: Any = array("d", times) if as_array else times
        batch = replace(
            empty_appended(0, []),
            trace_ids=tids,
            ts=ts,
            levels=list(levels),
            level_bytes=levels,
            ts_sorted=ts_sorted,
        )
        with _python_only():
            python = _fields(_PerTrace(batch, ([], [], [])))
        assert _fields(_PerTrace(batch, ([], [], []))) == python


@settings(max_examples=300, deadline=None)
@given(
    batches=st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "e", None]), max_size=10), max_size=4),
    cap=st.sampled_from([None, 0, 2, 4]),
)
def test_interner_indices_compiled_equal_one_lookup_at_a_time(
    batches: list[list[str | None]], cap: int | None
) -> None:
    """``Interner.indices`` in one compiled call: the same ints, and the interner grows the same (new
    keys in order, None as ``none``, keys past ``cap`` as ``full`` and not kept)."""
    assert parsing_columns.intern_all is not None
    compiled_one, python_one = Interner(cap, none=-1, full=-2), Interner(cap, none=-1, full=-2)
    for keys in batches:
        assert compiled_one.indices(keys) == list(map(python_one.__getitem__, keys))
        assert dict(compiled_one) == dict(python_one)
        assert compiled_one.strings == python_one.strings


@settings(max_examples=300, deadline=None)
@given(
    ts=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=20),
    packed=st.booleans(),
)
def test_newest_time_is_the_largest_time_of_a_batch(ts: list[float], packed: bool) -> None:
    """``newest_time`` (the last time of a sorted batch) is ``max`` of the batch's times, sorted or not,
    as a list or as the array a worker ships."""
    times = array("d", ts) if packed else ts
    assert newest_time(times, sorted(ts) == ts) == max(ts)
    ordered = sorted(ts)
    assert newest_time(array("d", ordered) if packed else ordered, True) == max(ts)
