"""Flag badges, flag counts, the flag filter and the critical-path fold in the real app (Pilot)."""

from __future__ import annotations

from typing import Any

from agent_tui.tui.widgets.trace_view import NodeRef
from tests.tui.conftest import T0, Build, apply_filter, line, screen_text, until
from tests.unit.analysis.fleet import build as build_fleet


def _labels(app: Any) -> dict[str, str]:
    return {tid: str(node.label) for tid, node in app.traces_view.nodes.items()}


async def test_flag_badges_on_trace_rows_and_counts_in_the_stats_bar(build: Build) -> None:
    """Flagged traces carry ⚑ badges in the traces view and the stats bar counts them."""
    fleet = build_fleet()
    app, source = build(follow=False)
    async with app.run_test(size=(160, 40)) as pilot:
        source.push(fleet.lines)
        await until(pilot, lambda: len(app.model.store) == len(fleet.lines))
        await pilot.press("t")
        (loop,) = fleet.expected["agent_loop"]
        await until(pilot, lambda: "⚑loop" in _labels(app).get(loop, ""))
        labels = _labels(app)
        assert all("⚑storm" in labels[t] for t in fleet.expected["retry_storm"] if t in labels)
        healthy = set(labels) - set().union(*fleet.expected.values())
        assert healthy and not any("⚑" in labels[t] for t in healthy)
        await until(pilot, lambda: "⚑ storm 13 loop 1" in screen_text(app))


async def test_flag_filter_in_the_filter_bar(build: Build) -> None:
    """Typing flag == "agent_loop" keeps exactly the looping trace's records."""
    fleet = build_fleet()
    app, source = build(follow=False)
    async with app.run_test(size=(160, 40)) as pilot:
        source.push(fleet.lines)
        await until(pilot, lambda: len(app.model.store) == len(fleet.lines))
        await apply_filter(pilot, app, 'flag == "agent_loop"')
        (loop,) = fleet.expected["agent_loop"]
        trace = app.model.traces.get(loop)
        assert trace is not None
        await until(pilot, lambda: len(app.view) == trace.record_count)
        assert {app.model.store.record(seq).trace_id for seq in app.view} == {loop}


def _parallel_trace() -> list[bytes]:
    """A root with a long child (on the critical path) and a short parallel one (off it)."""
    out = []
    for sid, parent, start, end in (
        ("r" * 16, None, 0, 10),
        ("a" * 16, "r" * 16, 1, 9),
        ("b" * 16, "r" * 16, 2, 5),
    ):
        ids: dict[str, Any] = {"trace_id": "t_par", "span_id": sid, "op": f"op.{sid[0]}"}
        if parent:
            ids["parent_span_id"] = parent
        out.append(line(T0 + start, "info", "trace.start", **ids))
        out.append(line(T0 + end, "info", "trace.complete", **ids))
    return sorted(out, key=lambda raw: raw[:40])


async def test_critical_path_marks_and_fold(build: Build) -> None:
    """Critical spans show ◆ and self time; C folds the parallel span off the path, C again brings it back."""
    app, source = build(follow=False)
    async with app.run_test(size=(120, 30)) as pilot:
        source.push(_parallel_trace())
        await until(pilot, lambda: app.model.traces.get("t_par") is not None and len(app.model.store) == 6)
        await pilot.press("t")
        await until(pilot, lambda: "t_par" in app.traces_view.nodes)
        tree = app.traces_view
        assert tree.select_ref(NodeRef("span", "t_par", "a" * 16))
        await until(pilot, lambda: tree.find(NodeRef("span", "t_par", "b" * 16)) is not None)
        long = tree.find(NodeRef("span", "t_par", "a" * 16))
        short = tree.find(NodeRef("span", "t_par", "b" * 16))
        assert long is not None and short is not None
        assert "◆ op.a" in str(long.label) and "self 8.0s" in str(long.label)
        assert "◆" not in str(short.label)
        await pilot.press("C")
        await until(pilot, lambda: tree.critical_only)
        await until(pilot, lambda: tree.find(NodeRef("span", "t_par", "b" * 16)) is None)
        assert tree.find(NodeRef("span", "t_par", "a" * 16)) is not None
        await pilot.press("C")
        await until(pilot, lambda: not tree.critical_only)
        await until(pilot, lambda: tree.find(NodeRef("span", "t_par", "b" * 16)) is not None)
