"""The ``flag`` field of the filter language, live in the view as flags are raised."""

from __future__ import annotations

import pytest

from agent_tui.model.query import FilterError, compile_filter
from agent_tui.model.session import LogModel
from agent_tui.model.views.filtered import FilteredView
from agent_tui.sources.base import LineBatch
from tests.unit.analysis.fleet import build


def _traces(model: LogModel, view: FilteredView) -> set[str]:
    return {model.store.record(seq).trace_id or "" for seq in view}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('flag == "agent_loop"', "agent_loop"),
        ('trace:(flag == "agent_loop")', "agent_loop"),
        ('flag in ["slow"]', "slow"),
        ('flag =~ "^retry" and level >= trace', "retry_storm"),
    ],
)
def test_flag_filter_follows_flags_raised_after_the_records(text: str, name: str) -> None:
    """Records that arrived before their trace was flagged show up once it is (batches of 5 lines)."""
    fleet = build()
    model = LogModel()
    view = FilteredView(model, compile_filter(text, flags=model.flags.of))
    for i in range(0, len(fleet.lines), 5):
        view.update(model.ingest(LineBatch("fleet", fleet.lines[i : i + 5])))
    assert _traces(model, view) == fleet.expected[name]
    if name == "agent_loop":
        (tid,) = fleet.expected[name]
        assert len(view) == model.traces.get(tid).record_count  # type: ignore[union-attr]


def test_negated_and_exists_flag_tests() -> None:
    """``flag != x`` keeps everything else; ``exists(flag)`` keeps every flagged trace."""
    fleet = build()
    model = LogModel()
    model.ingest(LineBatch("fleet", fleet.lines))
    every = set().union(*fleet.expected.values())
    flagged = FilteredView(model, compile_filter("exists(flag)", flags=model.flags.of))
    assert _traces(model, flagged) == every
    others = FilteredView(model, compile_filter('flag != "stuck"', flags=model.flags.of))
    assert fleet.expected["stuck"].isdisjoint(_traces(model, others))
    assert len(others) == len(model.store) - model.traces.get(min(fleet.expected["stuck"])).record_count  # type: ignore[union-attr]


def test_without_a_flag_lookup_nothing_is_flagged() -> None:
    """A filter compiled without the model's flags (a plain scan) matches no flag."""
    fleet = build()
    model = LogModel()
    model.ingest(LineBatch("fleet", fleet.lines))
    assert len(FilteredView(model, compile_filter('flag == "slow"'))) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [('flag == "nope"', "unknown flag"), ("flag > 3", "flag is a name"), ("flag == 3", "strings")],
)
def test_bad_flag_comparisons_are_errors(text: str, message: str) -> None:
    """Unknown names and orderings are rejected with a message, never silently false."""
    with pytest.raises(FilterError, match=message):
        compile_filter(text)


def test_flag_filter_prints_back_to_source() -> None:
    """The AST of a flag filter prints back to an equivalent expression."""
    assert str(compile_filter('trace:(flag == "agent_loop")').ast) == 'trace:(flag == "agent_loop")'
