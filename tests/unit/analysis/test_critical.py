"""Critical paths (Jaeger's definition) and self times on hand-built traces."""

from __future__ import annotations

import pytest

from agent_tui.model.record import Record
from agent_tui.model.traces.analysis import critical_path
from agent_tui.model.traces.spans import build_spans
from agent_tui.schema import Level

T0 = 1_000.0


class Trace:
    """Records of one hand-built trace, in arrival order."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def add(
        self, t: float, event: str, span: str | None, parent: str | None = None, op: str | None = None
    ) -> None:
        self.records.append(Record(len(self.records), T0 + t, Level.INFO, event, "t", span, parent, op))

    def span(self, sid: str, start: float, end: float | None, parent: str | None = None) -> None:
        """A span with a start line and, unless ``end`` is None, a complete line."""
        self.add(start, "trace.start", sid, parent, op=f"op.{sid}")
        if end is not None:
            self.add(end, "trace.complete", sid, parent, op=f"op.{sid}")

    def path(self, now: float | None = None) -> tuple[tuple[str, ...], dict[str, float]]:
        roots, _ = build_spans(self.records)
        found = critical_path(roots, None if now is None else T0 + now)
        return found.span_ids, found.self_ms


def test_sequential_children_are_all_on_the_path() -> None:
    """Children running one after another each decide the end: all are on the path, root first."""
    t = Trace()
    t.span("root", 0, 10)
    t.span("a", 1, 4, "root")
    t.span("b", 4, 9, "root")
    path, self_ms = t.path()
    assert path == ("root", "a", "b")
    assert self_ms["root"] == pytest.approx(2000)
    assert self_ms["a"] == pytest.approx(3000) and self_ms["b"] == pytest.approx(5000)


def test_parallel_children_only_the_last_to_finish_counts() -> None:
    """Of two overlapping children, only the one finishing last before the parent's end is critical."""
    t = Trace()
    t.span("root", 0, 10)
    t.span("slow", 1, 9, "root")
    t.span("quick", 2, 5, "root")
    t.span("leaf", 3, 8, "slow")
    path, self_ms = t.path()
    assert path == ("root", "slow", "leaf")
    assert self_ms["root"] == pytest.approx(2000)
    assert self_ms["slow"] == pytest.approx(3000)


def test_child_outliving_its_parent_is_clipped_to_the_parent() -> None:
    """A child ending after its parent counts only up to the parent's end (self time never negative)."""
    t = Trace()
    t.span("root", 0, 5)
    t.span("late", 1, 8, "root")
    t.span("after", 6, 7, "root")
    path, self_ms = t.path()
    assert path == ("root", "late")
    assert self_ms["root"] == pytest.approx(1000)
    assert self_ms["late"] == pytest.approx(7000)


def test_late_parent_reroots_the_orphans() -> None:
    """Children logged before their parent's first line still hang under it on the path."""
    t = Trace()
    t.span("a", 1, 3, "root")
    t.span("b", 3, 6, "root")
    t.span("root", 0, 7)
    path, _ = t.path()
    assert path == ("root", "a", "b")


def test_orphans_without_a_parent_share_a_virtual_root() -> None:
    """Two roots (their parent never came) form one chain from the last to end back to the first."""
    t = Trace()
    t.span("x", 0, 4, "gone")
    t.span("y", 4, 9, "gone")
    t.span("z", 1, 3, "gone")
    path, _ = t.path()
    assert path == ("x", "y")


def test_span_without_an_end_line_ends_at_its_last_record() -> None:
    """A span that never logged its end takes its last record's time (not running: it never started)."""
    t = Trace()
    t.span("root", 0, 10)
    t.add(2, "step", "quiet", "root")
    t.add(6, "step", "quiet", "root")
    path, self_ms = t.path(now=100)
    assert path == ("root", "quiet")
    assert self_ms["quiet"] == pytest.approx(4000)


def test_running_span_ends_now_and_says_so() -> None:
    """A started span with no end runs until ``now``; the result lists it as running."""
    t = Trace()
    t.span("root", 0, None)
    t.span("done", 1, 2, "root")
    t.span("open", 3, None, "root")
    roots, _ = build_spans(t.records)
    found = critical_path(roots, T0 + 20)
    assert found.span_ids == ("root", "done", "open")
    assert found.running == {"root", "open"}
    assert found.ends["open"] == pytest.approx(T0 + 20)
    assert found.self_ms["root"] == pytest.approx(2000)


def test_empty_trace_has_an_empty_path() -> None:
    """No spans, no path."""
    assert critical_path([]).span_ids == ()
