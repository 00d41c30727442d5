"""The agent-tui application: composes the widgets around one LogModel and owns the view state."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Final

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer

from agent_tui.model.clock import Clock
from agent_tui.model.query import Filter, compile_filter
from agent_tui.model.session import LogModel
from agent_tui.model.traces.analysis import Flag
from agent_tui.model.views.filtered import FilteredView
from agent_tui.schema import Level
from agent_tui.shutdown import ExitGuard
from agent_tui.sources.base import Source, SourceState
from agent_tui.tui.alerts import CriticalAlerts
from agent_tui.tui.deadletteractions import DeadLetterActions
from agent_tui.tui.export import Opener, open_export
from agent_tui.tui.gcpace import GcPacer
from agent_tui.tui.handover import HistoryHandover
from agent_tui.tui.inbox import BatchInbox
from agent_tui.tui.keys import KEYS, app_bindings
from agent_tui.tui.live import pump_source
from agent_tui.tui.livefold import LiveFold
from agent_tui.tui.messages import LinesArrived, SourceChanged
from agent_tui.tui.terminal import TerminalDriver, bind_exit_guard
from agent_tui.tui.themes import THEME_VARIABLE_DEFAULTS, load_themes
from agent_tui.tui.viewstate import Widgets
from agent_tui.tui.widgets.detail import DetailPane
from agent_tui.tui.widgets.filter_bar import FilterBar
from agent_tui.tui.widgets.log_view import LogView
from agent_tui.tui.widgets.stats_bar import WINDOWS, StatsBar, StatsSnapshot
from agent_tui.tui.widgets.trace_view import TraceView

__all__ = ["AgentTuiApp"]

FRAME_S: Final = 1 / 20
"""Redraw at most 20 times a second however fast lines arrive."""
DRAIN_BUDGET_S: Final = 0.025
"""Ingest for at most this long before letting keys and redraws through."""
BACKLOG_LINES: Final = 20_000
"""Above this many queued lines (a history load, a burst) frames drop to BACKLOG_FRAME_S so ingest
gets the CPU; counts stay exact and the view catches up when the backlog drains."""
BACKLOG_FRAME_S: Final = 0.25
FAST_LINES_PER_FRAME: Final = 2_000
"""More lines than this since the last frame (over 40 k lines/s) also drop frames to BACKLOG_FRAME_S:
drawing a screen of fresh rows costs tens of milliseconds, which a fast writer needs for ingest."""
HISTORY_SLICE_S: Final = 0.004
"""History folds for this long per drain (at least one parsed batch, ≈3 000 records): a key pressed
meanwhile waits for one slice, not for the live budget as well."""
STATS_EVERY_S: Final = 0.25
"""The stats bar refreshes on its own at most this often (user actions refresh it at once)."""
FIRST_ROWS_WAIT_S: Final = 5.0
"""When no source has sent anything or settled by then (a quiet pipe), what waits for the first rows
(resuming garbage collection, the dead-letters view) runs anyway."""


class AgentTuiApp(HistoryHandover, CriticalAlerts, DeadLetterActions):
    """Live logs, traces, stats and filters over a :class:`LogModel` fed by ``sources``."""

    CSS_PATH = "app.tcss"
    TITLE = "agent-tui"
    BINDINGS: ClassVar[list[BindingType]] = list(app_bindings())

    def __init__(
        self,
        model: LogModel,
        sources: Sequence[Source],
        *,
        clock: Clock,
        follow: bool,
        theme: str,
        filter_text: str | None = None,
        min_level: Level | None = None,
        export_dir: Path | None = None,
        export_open: Opener = open_export,
        dead_letters: Sequence[str] = (),
        exit_guard: ExitGuard | None = None,
        collector_paused: bool = False,
    ) -> None:
        super().__init__()
        self.dead_letter_paths = list(dead_letters)
        self.model = model
        self.sources = list(sources)
        self.clock = clock
        self.view = FilteredView(model, None, min_level)
        self.view_min_level = min_level
        self.inbox = BatchInbox()
        self.live = LiveFold(self.inbox, self.wake)
        """Hands the inbox's batches to ``_drain`` in order, parsed here or by a worker process."""
        self.merge = None
        self.follow_mode = follow
        self.paused = False
        self.filter_text = ""
        self.search: Callable[[int], bool] | None = None
        self.export_dir = export_dir or Path.cwd()
        self.export_open = export_open
        self.source_states: dict[str, tuple[str, str]] = {s.name: ("reading", "") for s in sources}
        self.started = clock.now()
        self.replay_label = ""
        """``REPLAY ×10`` while ``agent-tui replay`` drives the app."""
        self.alerted: set[int] = set()
        self._initial_filter = filter_text
        self._exit_guard = exit_guard
        self._dirty = True
        self._touched: set[str] = set()
        self._last_stats = 0.0
        self._last_frame = 0.0
        self._since_frame = 0
        self._settling = False
        self._gc = GcPacer(paused_at_start=collector_paused)
        self._release_asked = False
        self._first_rows_asked = False
        for theme_obj in load_themes().values():
            self.register_theme(theme_obj)
        self.theme = theme if theme in self.available_themes else "dark"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Our CSS variables, so any Textual theme picked from the palette still works."""
        return dict(THEME_VARIABLE_DEFAULTS)

    def compose(self) -> ComposeResult:
        """Stats bar, main area (logs or traces) beside the detail pane, filter bar, footer.

        The sources start reading here, beside the mounting: their batches wait in the inbox and are
        ingested once ``on_mount`` has run (no message is handled before), often before the first
        frame, which then has rows instead of being an empty screen drawn first.
        """
        for source in self.sources:
            self.run_worker(pump_source(source, self.inbox, self.post_message), group="sources")
        self.widgets = Widgets(
            stats=StatsBar(id="stats"),
            switcher=ContentSwitcher(initial="logs", id="switcher"),
            logs=LogView(self.model.store, self.view, id="logs"),
            traces=TraceView(
                self.model.traces,
                self.model.store.record,
                flags_of=self._flag_names,
                now=self._analysis_now,
                id="traces",
            ),
            detail=DetailPane(id="detail"),
            filter=FilterBar(self._compile, id="filter"),
        )
        self.widgets.traces.min_level = self.view_min_level
        yield self.widgets.stats
        with Horizontal(id="main"):
            with self.widgets.switcher:
                yield self.widgets.logs
                yield self.widgets.traces
            yield self.widgets.detail
        yield self.widgets.filter
        yield Footer()

    def _compile(self, text: str) -> Filter:
        return compile_filter(text, now=self.clock.now, flags=self._flags_of)

    # Read through self.model each time: the full index may replace the preview model.
    def _flags_of(self, trace_id: str | None) -> Mapping[str, Flag]:
        return self.model.flags.of(trace_id)

    def _flag_names(self, trace_id: str) -> list[str]:
        return self.model.flags.names(trace_id)

    def _analysis_now(self) -> float:
        return self.model.flags.now()

    def on_mount(self) -> None:
        """Apply ``--filter`` (before any batch is ingested), start the redraw throttle."""
        self.detail.display = False
        self.widgets.filter.display = False
        self.logs.focus()
        if self._initial_filter:
            self.apply_filter_text(self._initial_filter)
        if self.merge is not None:
            self.run_worker(self._hold_history(), group="history")
        if self._exit_guard is not None:
            bind_exit_guard(self, self._exit_guard)
            self._exit_guard.add_cleanup(self.live.close)
        self.set_interval(FRAME_S, self._tick)
        self.set_timer(FIRST_ROWS_WAIT_S, self._ask_first_rows)
        # Not a frame (``_tick``): the batches read meanwhile are drained next and drawn at once.
        self.sync_rows()

    def on_unmount(self) -> None:
        """A signal from now on ends the process at once (the guard's cleanups still run); the parse
        worker ends."""
        self.live.close()
        if self._exit_guard is not None:
            self._exit_guard.stopper = None

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver; on Linux/macOS ours instead, which cannot hang on a lost terminal."""
        driver = super().get_driver_class()
        return TerminalDriver if driver is LinuxDriver else driver

    @on(LinesArrived)
    async def _drain(self) -> None:
        """The one place the models are mutated: ingest queued batches within a time budget."""
        deadline = time.perf_counter() + DRAIN_BUDGET_S
        fresh: list[tuple[int, bool]] = []
        merge = self.merge
        taken = False
        while time.perf_counter() < deadline:
            item = self.live.take(self.model, allow_worker=merge is None)
            if item is None:
                break
            taken = True
            batch, parsed = item
            result = self.model.ingest(batch) if parsed is None else self.model.ingest_parsed(batch, parsed)
            if merge is not None:
                merge.keep(batch)
            self.view.update(result)
            self._gc.grew(result.count)
            self._since_frame += result.count
            self._touched.update(result.touched_traces)
            fresh.extend((seq, batch.live) for seq in result.new_criticals)
        if taken:
            # Only then: while history loads, a drain folds history alone, and redrawing unchanged rows
            # 20 times a second cost the load a sixth of the app's CPU.
            self._dirty = True
        self._ask_first_rows()
        if fresh:
            self._alert(fresh)
        if merge is not None:
            if merge.held and not self._release_asked:
                # History starts loading once the first screen with the tail is drawn.
                self._release_asked = True
                self.call_after_refresh(merge.release)
            merge.track(self.view.filter, self.view.min_level)
            if merge.fold(time.perf_counter() + HISTORY_SLICE_S):
                self._switch_to_full(merge)
        if time.monotonic() - self._last_frame >= FRAME_S:
            # The first lines after a quiet spell are drawn now, not at the next timer tick.
            self._tick()
        if self.live.has_work or (self.merge is not None and self.merge.has_work):
            # A queued message is taken without suspending, so give the loop one turn first:
            # redraws, timers, keys and the source workers run before the next slice.
            await asyncio.sleep(0)
            self.post_message(LinesArrived())

    def _ask_first_rows(self) -> None:
        if not self._first_rows_asked:
            self._first_rows_asked = True
            self.call_after_refresh(self._after_first_rows)

    def _after_first_rows(self) -> None:
        """The first rows are on screen: now resume garbage collection and mount the dead-letters view,
        work that would have delayed them."""
        merge = self.merge
        self._gc.started(history_holds=merge is not None and merge.holds_collector)
        if self.dead_letter_paths:
            self.mount_dead_letters()

    def wake(self) -> None:
        """Schedule a drain (callable from any thread)."""
        with contextlib.suppress(RuntimeError):  # the loop is gone: the app is exiting
            self.post_message(LinesArrived())

    @on(SourceChanged)
    def _source_changed(self, message: SourceChanged) -> None:
        status = message.status
        self.source_states[status.source] = (status.state.value, status.reason)
        # Read up to its end: a planned file that sent nothing (its batches are all queued or taken
        # by now) has no history, so the full index must not wait for it.
        merge = self.merge
        if status.state is SourceState.FOLLOWING and merge is None:
            self.live.warm(self.model)
        settled = status.state in (SourceState.DONE, SourceState.ERROR, SourceState.FOLLOWING)
        if settled:
            self._ask_first_rows()
        pending = merge.pending(status.source) if settled and merge is not None else set()
        if merge is not None and pending and not self.live.holds(pending):
            merge.forget(status.source)
        self._dirty = True

    def _tick(self) -> None:
        """Throttled redraw: rows, follow position, traces and stats."""
        now = time.monotonic()
        busy = self.live.pending_lines > BACKLOG_LINES or self._since_frame > FAST_LINES_PER_FRAME
        if busy and now - self._last_frame < BACKLOG_FRAME_S:
            if not self.live.pending_lines and not self._settling:
                # Caught up: if nothing more comes within a frame, the burst is over; show it now
                # rather than up to BACKLOG_FRAME_S later.
                self._settling = True
                self.set_timer(FRAME_S, partial(self._settled, self._since_frame))
            return
        if self._dirty:
            self._dirty = False
            self._last_frame = now
            self._since_frame = 0
            self._show_rows()
            if self._touched and self.current_view == "traces":
                touched, self._touched = self._touched, set()
                self.traces_view.sync(touched)
        if now - self._last_stats >= STATS_EVERY_S:
            # Counts over minutes need not redraw at frame rate (each read walks the windows);
            # rolling windows also move with the clock when nothing arrives, and so do stuck traces.
            self._touched |= self.model.flags.check()
            if self.view.refresh_flags():
                self._dirty = True
            self.refresh_stats()

    def _settled(self, lines: int) -> None:
        self._settling = False
        if self._since_frame == lines and not self.live.pending_lines:
            self._last_frame = 0.0
            self._tick()

    def refresh_stats(self) -> None:
        """Redraw the stats bar from the model now."""
        self._last_stats = time.monotonic()
        self.widgets.stats.snapshot = self.stats_snapshot()

    def sync_rows(self) -> None:
        """After a user action: show the rows and the stats bar's new state at once."""
        self._show_rows()
        self.refresh_stats()

    def _show_rows(self) -> None:
        """Show the view's current rows (frozen while paused) and stick to the end when following."""
        log_view = self.logs
        count = log_view.row_count if self.paused else len(self.view)
        log_view.set_rows(self.view, count)
        # Until the user moves, a static file opens at its newest record too (like less +G).
        if (self.follow_mode or not self.user_moved) and log_view.pinned and not self.paused:
            log_view.stick_to_bottom()

    def stats_snapshot(self) -> StatsSnapshot:
        """Read the model into the stats bar's value object."""
        stats = self.model.stats
        store = self.model.store
        counts, loading = self.history_counts({label: stats.counts(window) for label, window in WINDOWS})
        return StatsSnapshot(
            counts=counts,
            loading=loading,
            rate=stats.rate_history(17 if stats.following else 16),
            live=stats.following,
            following=self.follow_mode,
            paused=self.paused,
            sources=dict(self.source_states),
            raw=store.raw_count,
            evicted=store.evicted,
            # Paused, the count stays with the frozen rows; the total shows what arrives meanwhile.
            shown=self.logs.row_count if self.paused else len(self.view),
            total=len(store),
            filter_text=self.filter_text,
            min_level=self.view_min_level,
            behind=self.live.pending_lines,
            dead_letters=self.dead_letter_summary,
            flags=dict(self.model.flags.counts),
            replay=self.replay_label,
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every action of the key table in the command palette, with its key."""
        yield from super().get_system_commands(screen)
        for key in KEYS:
            if key.action and key.action not in ("command_palette", "quit", "help"):
                yield SystemCommand(
                    f"{key.description.split(' (')[0]}  ({key.label})",
                    key.description,
                    self._runner(key.action),
                )

    def _runner(self, action: str) -> Callable[[], Any]:
        async def run() -> None:
            await self.run_action(action)

        return run
