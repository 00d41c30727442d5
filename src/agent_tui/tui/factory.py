"""Builds the production application: one LogModel, its sources, the clock, the theme and any history load."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agent_tui.model.clock import Clock, SystemClock
from agent_tui.model.session import LogModel
from agent_tui.model.traces.analysis import Thresholds
from agent_tui.schema import Level
from agent_tui.shutdown import ExitGuard
from agent_tui.sources.base import Source
from agent_tui.tui.app import AgentTuiApp
from agent_tui.tui.export import Opener, open_export
from agent_tui.tui.tailfirst import HistoryMerge
from agent_tui.tui.themes import choose_theme

if TYPE_CHECKING:
    from agent_tui.model.parsing.history import HistoryLoad

__all__ = ["make_app"]


def make_app(
    sources: Sequence[Source],
    *,
    clock: Clock | None = None,
    follow: bool = False,
    theme: str | None = None,
    filter_text: str | None = None,
    min_level: Level | None = None,
    max_records: int | None = None,
    export_dir: Path | None = None,
    export_open: Opener = open_export,
    environ: Mapping[str, str] | None = None,
    dead_letters: Sequence[str] = (),
    history: Mapping[str, Sequence[str]] | None = None,
    history_workers: int | None = None,
    history_load: Callable[..., HistoryLoad] | None = None,
    exit_guard: ExitGuard | None = None,
    collector_paused: bool = False,
    overrides: Mapping[str, str] | None = None,
    thresholds: Thresholds | None = None,
) -> AgentTuiApp:
    """Build the production graph: one LogModel, the sources, the clock and the theme.

    Tests pass a FrozenClock, temp dirs and their own sources; ``environ`` decides NO_COLOR → mono.
    ``history`` maps each source opened tail-first (``tail_first_options``) to its files, whose history
    is then indexed by ``history_workers`` processes beside the screen and switched to once complete
    (``history_load`` builds each load, by default a ``HistoryLoad``).
    ``exit_guard`` (installed by the command) turns SIGHUP/SIGTERM into a bounded exit.
    ``collector_paused``: the command turned garbage collection off for start-up; the app turns it
    back on once the first rows are drawn.
    ``overrides`` are ``--field ROLE=KEY`` for every parser.
    """
    real_clock = clock or SystemClock()
    model = LogModel(
        max_records=max_records,
        clock=real_clock,
        following=follow,
        overrides=overrides,
        thresholds=thresholds,
    )
    app = AgentTuiApp(
        model,
        sources,
        clock=real_clock,
        follow=follow,
        theme=choose_theme(theme, environ),
        filter_text=filter_text,
        min_level=min_level,
        export_dir=export_dir,
        export_open=export_open,
        dead_letters=dead_letters,
        exit_guard=exit_guard,
        collector_paused=collector_paused,
    )
    if history and max_records is None:
        full = LogModel(clock=real_clock, following=follow, overrides=overrides, thresholds=thresholds)
        app.merge = HistoryMerge(
            full,
            history,
            wake=app.wake,
            overrides=overrides,
            workers=history_workers,
            load_factory=history_load,
        )
    return app
