"""Pilot tests of opening a big file newest first while its history is indexed in worker processes."""

from __future__ import annotations

import gc
import multiprocessing
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from agent_tui.model.parsing.history import HistoryLoad
from agent_tui.model.session import LogModel
from agent_tui.schema import Level
from agent_tui.sources.factory import open_source
from agent_tui.sources.options import SourceOptions
from agent_tui.tui.app import AgentTuiApp
from agent_tui.tui.factory import make_app
from agent_tui.tui.tailfirst import tail_first_options
from tests.unit.analysis.fleet import build as build_fleet

from .conftest import T0, line, screen_text, until

TAIL = 40
LINES = 1200


def write_log(path: Path, start: int, count: int) -> None:
    """Append lines numbered ``start..start+count-1``; traces of 4 lines cross every boundary."""
    out = []
    for n in range(start, start + count):
        trace = f"t_{n // 4:08d}"
        level = "error" if n % 97 == 0 else "info"
        out.append(line(T0 + n * 0.01, level, f"step.{n % 4}", n=n, trace_id=trace, agent_id="a"))
    with path.open("ab") as fh:
        fh.write(b"\n".join(out) + b"\n")


class Gate:
    """Builds real history loads that wait for ``release`` before they start parsing."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.loads: list[HistoryLoad] = []

    def __call__(self, *args: Any, **kwargs: Any) -> HistoryLoad:
        gate = self.opened

        class Held(HistoryLoad):
            def _run(self) -> None:
                while not gate.wait(0.01) and not self._cancelled.is_set():
                    pass
                super()._run()

        load = Held(*args, **kwargs)
        self.loads.append(load)
        return load


class Trickle(Gate):
    """Builds real history loads in 4 kB pieces that hand out their first piece, then wait for ``opened``."""

    def __call__(self, *args: Any, **kwargs: Any) -> HistoryLoad:
        gate = self.opened

        class Held(HistoryLoad):
            def _parse(self, path: str, ranges: list[tuple[int, int]]) -> None:
                super()._parse(path, ranges[:1])
                while not gate.wait(0.01) and not self._cancelled.is_set():
                    pass
                super()._parse(path, ranges[1:])

        load = Held(*args, **{**kwargs, "piece_bytes": 4096})
        self.loads.append(load)
        return load


def open_app(path: Path, gate: Gate, *, follow: bool, **kwargs: Any) -> AgentTuiApp:
    options, planned = tail_first_options(
        str(path), SourceOptions(follow=follow), min_bytes=0, tail_lines=TAIL
    )
    assert planned == ([str(path)] if path.is_file() else sorted(str(p) for p in path.iterdir()))
    return make_app(
        [open_source(str(path), options)],
        follow=follow,
        environ={},
        history={str(path): planned},
        history_workers=2,
        history_load=gate,
        **kwargs,
    )


def numbers(model: LogModel) -> list[int]:
    store = model.store
    return [int(store.attrs(seq)["n"]) for seq in range(store.first_seq, store.end_seq)]


def trace_summary(model: LogModel) -> Mapping[str, tuple[Any, ...]]:
    return {
        t.trace_id: (t.record_count, t.error_count, t.status, t.first_seq, t.last_seq)
        for t in model.traces.traces()
    }


@pytest.fixture
def big(tmp_path: Path) -> Path:
    """A file of ``LINES`` numbered lines."""
    path = tmp_path / "big.jsonl"
    write_log(path, 0, LINES)
    return path


async def release(pilot: Pilot[Any], app: AgentTuiApp, gate: Gate) -> None:
    """Let the held history loads parse, and wait until the app has switched to the full index."""
    gate.opened.set()
    await until(pilot, lambda: app.merge is None)


async def test_newest_rows_first_then_counts_and_traces_of_a_full_index(big: Path) -> None:
    """The file's last lines show while history is held back; once indexed, the model equals a whole read."""
    gate = Gate()
    app = open_app(big, gate, follow=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.logs.row_count == TAIL)
        await until(pilot, lambda: "indexing history" in screen_text(app))
        assert app.merge is not None
        assert numbers(app.model) == list(range(LINES - TAIL, LINES))
        await until(pilot, lambda: f"n={LINES - 1}" in screen_text(app))
        await release(pilot, app, gate)
        await until(pilot, lambda: "indexing history" not in screen_text(app))
        await until(pilot, lambda: app.logs.row_count == LINES and app.logs.cursor == LINES - 1)
        whole = LogModel()
        whole.load_file(str(big), workers=1)
        assert numbers(app.model) == list(range(LINES))
        assert app.model.stats.counts(None) == whole.stats.counts(None)
        assert trace_summary(app.model) == trace_summary(whole)
        whole.close()


async def test_follow_keeps_new_lines_while_history_loads(tmp_path: Path) -> None:
    """Lines appended while history is held back are shown at once and end up once each, in file order."""
    path = tmp_path / "live.jsonl"
    write_log(path, 0, LINES)
    gate = Gate()
    app = open_app(path, gate, follow=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.logs.row_count == TAIL)
        write_log(path, LINES, 300)
        await until(pilot, lambda: app.logs.row_count == TAIL + 300)
        assert app.merge is not None
        await until(pilot, lambda: f"n={LINES + 299}" in screen_text(app))
        await release(pilot, app, gate)
        write_log(path, LINES + 300, 5)
        await until(pilot, lambda: len(app.view) == LINES + 305)
        assert numbers(app.model) == list(range(LINES + 305))
        await until(pilot, lambda: app.logs.cursor == LINES + 304)


async def test_quitting_while_history_loads_ends_its_worker_processes(big: Path) -> None:
    """q during the history load stops the loading thread and leaves no worker process behind."""
    gate = Gate()
    app = open_app(big, gate, follow=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: bool(gate.loads))
        gate.opened.set()
        await pilot.press("q")
    assert gate.loads
    for load in gate.loads:
        assert not load._thread.is_alive()
    assert multiprocessing.active_children() == []


async def test_filter_and_search_carry_over_to_the_full_index(big: Path) -> None:
    """A filter set on the tail holds after the switch, over every record, and n still finds matches."""
    gate = Gate()
    app = open_app(big, gate, follow=False, filter_text='level == "error"')
    errors = [n for n in range(LINES) if n % 97 == 0]
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: bool(gate.loads))
        await until(pilot, lambda: len(app.view) == sum(1 for n in errors if n >= LINES - TAIL))
        await release(pilot, app, gate)
        store = app.model.store
        assert [int(store.attrs(seq)["n"]) for seq in app.view] == errors
        await pilot.press("g", "n")
        await until(pilot, lambda: app.logs.cursor == 1)
        assert app.logs.selected_seq is not None
        assert int(store.attrs(app.logs.selected_seq)["n"]) == errors[1]


async def test_a_directory_of_live_logs_opens_newest_first_then_holds_every_line(tmp_path: Path) -> None:
    """Each live log's tail shows first; after the switch every line of every log is there exactly once."""
    logs = tmp_path / "logs"
    logs.mkdir()
    write_log(logs / "a.jsonl", 0, 600)
    write_log(logs / "b.jsonl", 5000, 600)
    gate = Gate()
    app = open_app(logs, gate, follow=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: len(gate.loads) == 2)
        await until(pilot, lambda: app.logs.row_count == 2 * TAIL)
        assert app.merge is not None
        await release(pilot, app, gate)
        assert sorted(numbers(app.model)) == [*range(600), *range(5000, 5600)]
        write_log(logs / "b.jsonl", 5600, 3)
        await until(pilot, lambda: len(app.view) == 1203)


def test_directories_with_rotated_logs_are_read_from_the_start(tmp_path: Path) -> None:
    """A rotated sibling must be read before its live file, so such a directory is not opened tail-first."""
    write_log(tmp_path / "a.jsonl", 0, 100)
    write_log(tmp_path / "a.jsonl.1", 100, 100)
    options = SourceOptions(follow=True)
    assert tail_first_options(str(tmp_path), options, min_bytes=0) == (options, [])


async def test_a_key_pressed_while_history_folds_is_handled_before_the_fold_ends(big: Path) -> None:
    """Space pauses at once while history is half folded, and the switch to the full index keeps it paused."""
    gate = Trickle()
    app = open_app(big, gate, follow=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.logs.row_count == TAIL)
        await until(pilot, lambda: app.merge is not None and len(app.merge.full.store) > 0)
        await pilot.press("space")
        await until(pilot, lambda: "PAUSED" in screen_text(app).splitlines()[0])
        assert app.merge is not None and not gate.loads[0].finished
        await release(pilot, app, gate)
        assert gc.isenabled()
        assert app.paused and app.logs.row_count == len(app.view) == LINES
        await pilot.press("space")
        await until(pilot, lambda: "PAUSED" not in screen_text(app).splitlines()[0])


async def test_a_level_chosen_mid_fold_holds_over_every_record_after_the_switch(big: Path) -> None:
    """Key 4 (error+) pressed after history began folding: the full index shows exactly every error."""
    gate = Trickle()
    app = open_app(big, gate, follow=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.merge is not None and len(app.merge.full.store) > 0)
        await pilot.press("4")
        await until(pilot, lambda: app.view.min_level is Level.ERROR)
        await release(pilot, app, gate)
        store = app.model.store
        assert [int(store.attrs(seq)["n"]) for seq in app.view] == [n for n in range(LINES) if n % 97 == 0]


async def test_the_traces_view_shows_the_full_index_after_a_switch_made_while_hidden(big: Path) -> None:
    """The traces view, hidden at the switch, lists history's traces (not only the tail's) when shown."""
    gate = Gate()
    app = open_app(big, gate, follow=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.logs.row_count == TAIL)
        await release(pilot, app, gate)
        assert not app.traces_view.nodes
        await pilot.press("t")
        await until(pilot, lambda: len(app.traces_view.nodes) == LINES // 4)
        assert "t_00000000" in app.traces_view.nodes


class StartWatch(Gate):
    """A Gate that notes how many rows the logs view showed when each load started."""

    def __init__(self) -> None:
        super().__init__()
        self.app: AgentTuiApp | None = None
        self.rows_at_start: list[int] = []

    def __call__(self, *args: Any, **kwargs: Any) -> HistoryLoad:
        load = super().__call__(*args, **kwargs)
        start = load.start

        def noted() -> None:
            assert self.app is not None
            self.rows_at_start.append(self.app.logs.row_count)
            start()

        load.start = noted  # type: ignore[method-assign]
        return load


async def test_history_workers_start_only_once_the_tail_is_on_screen(big: Path) -> None:
    """The first history load starts after the tail's rows are drawn, never in the drain that read them."""
    gate = StartWatch()
    app = gate.app = open_app(big, gate, follow=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: bool(gate.rows_at_start))
        assert gate.rows_at_start == [TAIL]
        await release(pilot, app, gate)
        assert len(app.view) == LINES


async def test_flag_badges_survive_the_switch_to_the_full_index(tmp_path: Path) -> None:
    """A loop flagged in history carries its ⚑ badge in the traces view of the full index."""
    fleet = build_fleet()
    path = tmp_path / "fleet.jsonl"
    path.write_bytes(b"\n".join(fleet.lines) + b"\n")
    gate = Gate()
    app = open_app(path, gate, follow=False)
    (loop,) = fleet.expected["agent_loop"]
    async with app.run_test(size=(160, 40)) as pilot:
        await release(pilot, app, gate)
        assert app.model.flags.names(loop)
        await pilot.press("t")
        await until(pilot, lambda: loop in app.traces_view.nodes)
        assert "⚑loop" in str(app.traces_view.nodes[loop].label)


class Small(Gate):
    """Held loads in 2 kB pieces: the history arrives in many batches, each folded by a drain of its own."""

    def __call__(self, *args: Any, **kwargs: Any) -> HistoryLoad:
        return super().__call__(*args, **{**kwargs, "piece_bytes": 2048})


async def test_folding_history_alone_does_not_redraw_the_rows(big: Path) -> None:
    """A drain that only folds history (no new line for the screen) does not mark the rows for a
    redraw: they were redrawn 20 times a second while a big history loaded, a sixth of the app's CPU."""
    gate = Small()
    app = open_app(big, gate, follow=False)
    marked: list[bool] = []
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.logs.row_count == TAIL and bool(gate.loads))
        await until(pilot, lambda: not app._dirty)
        merge = app.merge
        assert merge is not None
        fold = merge.fold

        def counted_fold(deadline: float) -> bool:
            # What this drain decided before folding (no line arrived, so nothing to redraw).
            marked.append(app._dirty)
            app._dirty = False
            return fold(deadline)

        merge.fold = counted_fold  # type: ignore[method-assign]
        await release(pilot, app, gate)
        await until(pilot, lambda: app.logs.row_count == LINES)
    assert len(marked) >= 20
    assert marked.count(True) <= 1, marked
