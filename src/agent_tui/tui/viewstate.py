"""The app's user actions: navigation, follow/pause, filter, levels, traces, detail, copy and export."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from textual import on
from textual.app import App
from textual.widgets import ContentSwitcher, Tree

from agent_tui.model.clock import Clock
from agent_tui.model.query import Filter
from agent_tui.model.session import LogModel
from agent_tui.model.traces.forest import Trace
from agent_tui.model.traces.spans import Span
from agent_tui.model.traces.tracejson import error_json, record_json, span_json, trace_json
from agent_tui.model.views.filtered import FilteredView, StoreSubject
from agent_tui.schema import Level
from agent_tui.tui.export import ExportStopped, Opener, export_path, export_rows, failure_text
from agent_tui.tui.inbox import BatchInbox
from agent_tui.tui.sanitize import safe_text
from agent_tui.tui.widgets.detail import DetailPane
from agent_tui.tui.widgets.filter_bar import FilterBar
from agent_tui.tui.widgets.log_view import LogView
from agent_tui.tui.widgets.stats_bar import StatsBar
from agent_tui.tui.widgets.trace_view import NodeRef, TraceView, walk_spans

__all__ = ["LEVEL_KEYS", "ViewActions"]

LEVEL_KEYS: Final[Mapping[int, Level | None]] = {
    1: None,
    2: Level.INFO,
    3: Level.WARNING,
    4: Level.ERROR,
    5: Level.CRITICAL,
}


@dataclass(frozen=True, slots=True)
class Widgets:
    """The app's long-lived widgets, kept by reference so timers work whichever screen is on top."""

    stats: StatsBar
    switcher: ContentSwitcher
    logs: LogView
    traces: TraceView
    detail: DetailPane
    filter: FilterBar


class ViewActions(App[int]):
    """Actions bound in :mod:`agent_tui.tui.keys`; the subclass wires the model and widgets."""

    model: LogModel
    view: FilteredView
    inbox: BatchInbox
    clock: Clock
    follow_mode: bool
    paused: bool
    filter_text: str
    search: Callable[[int], bool] | None
    search_target: Filter | None = None
    """The compiled expression ``search`` tests (kept so a new model gets the same search)."""
    export_dir: Path
    export_open: Opener
    view_min_level: Level | None = None
    user_moved: bool = False
    """Set once the user moves the cursor; before that even a static view stays at its end."""
    widgets: Widgets

    def sync_rows(self) -> None:
        """Provided by the app: push the view's rows to the logs view and redraw the stats bar."""
        raise NotImplementedError

    @property
    def logs(self) -> LogView:
        """The logs view."""
        return self.widgets.logs

    @property
    def traces_view(self) -> TraceView:
        """The traces view."""
        return self.widgets.traces

    @property
    def detail(self) -> DetailPane:
        """The detail pane."""
        return self.widgets.detail

    @property
    def current_view(self) -> str:
        """``logs`` or ``traces``."""
        return self.widgets.switcher.current or "logs"

    # follow / pause
    def action_toggle_follow(self) -> None:
        """Turn follow mode on (jump to the newest record) or off."""
        self.follow_mode = not self.follow_mode
        self.logs.pinned = self.follow_mode
        self.notify("following" if self.follow_mode else "follow off", timeout=1.5)
        self.sync_rows()

    def action_newest(self) -> None:
        """G: go to the newest record and follow again (the way back after looking around)."""
        self._show_logs()
        if not self.follow_mode:
            self.notify("following", timeout=1.5)
        self.follow_mode = True
        self.sync_rows()
        self.logs.stick_to_bottom()

    def action_toggle_pause(self) -> None:
        """Freeze the rows on screen; ingestion and counts continue, resuming catches up."""
        self.paused = not self.paused
        self.sync_rows()

    @on(LogView.CursorMoved)
    def _cursor_moved(self, message: LogView.CursorMoved) -> None:
        log_view = self.logs
        if message.by_user:
            self.user_moved = True
        if message.by_user and self.follow_mode:
            at_end = log_view.cursor >= log_view.row_count - 1
            if not at_end or log_view.scroll_offset.y < log_view.max_scroll_y:
                self.follow_mode = False
        if self.detail.display and self.current_view == "logs":
            self.show_record(message.seq)

    # levels and filter
    def action_min_level(self, key: int) -> None:
        """Keys 1–5: show all, info+, warning+, error+, critical only."""
        level = LEVEL_KEYS.get(key)
        self.view_min_level = level
        self.traces_view.set_min_level(level)
        self._refilter(lambda: self.view.set_min_level(level))

    def _refilter(self, change: Callable[[], None]) -> None:
        selected = self.logs.selected_seq
        change()
        self.logs.set_rows(self.view, len(self.view))
        self.sync_rows()
        index = self.view.index_of(selected) if selected is not None else None
        if self.follow_mode and self.logs.pinned and not self.paused:
            self.logs.stick_to_bottom()
        elif index is not None:
            self.logs.move_to(index, by_user=False)
        self.logs.clear_cache()

    def action_open_filter(self) -> None:
        """Open the filter bar with the active expression."""
        self.widgets.filter.open(self.filter_text)

    def apply_filter_text(self, text: str) -> None:
        """Compile and apply ``text`` (startup ``--filter``); a bad expression is reported and ignored."""
        bar = self.widgets.filter
        try:
            compiled = bar._compile(text)
        except ValueError as exc:
            self.notify(f"bad --filter: {exc}", severity="error", markup=False)
            return
        self._set_filter(text, compiled)

    def _set_filter(self, text: str, compiled: Filter | None) -> None:
        self.filter_text = text
        self._refilter(lambda: self.view.set_filter(compiled))
        if compiled is None:
            return
        target = compiled.inner if compiled.trace_scoped and compiled.inner else compiled
        self.search_target = target
        self.search = self.view_predicate(target)
        self.logs.is_match = self.search
        self.logs.clear_cache()

    def view_predicate(self, compiled: Filter) -> Callable[[int], bool]:
        """A seq → bool test for ``compiled`` against the store (used by n/N and the match marks)."""
        store = self.model.store

        def test(seq: int) -> bool:
            return bool(compiled.matches(StoreSubject(store, seq)))

        return test

    @on(FilterBar.Applied)
    def _filter_applied(self, message: FilterBar.Applied) -> None:
        self._set_filter(message.text, message.compiled)
        self._close_filter()

    @on(FilterBar.Closed)
    def _close_filter(self) -> None:
        self.widgets.filter.display = False
        self._focus_main()

    def _focus_main(self) -> None:
        (self.logs if self.current_view == "logs" else self.traces_view).focus()

    def action_escape(self) -> None:
        """Close the detail pane when in it; else clear the filter (the expression stays for n/N)."""
        if self.focused is self.detail:
            self._focus_main()
        elif self.filter_text:
            self._refilter(lambda: self.view.set_filter(None))
            self.filter_text = ""
        elif self.view_min_level is not None:
            self.action_min_level(1)

    # errors and matches
    def _jump(self, index: int | None, what: str) -> None:
        if index is None:
            self.notify(f"no {what}", timeout=1.5)
            return
        self.logs.move_to(index)

    def action_next_error(self) -> None:
        """Next error below the cursor; at the end, the newest error."""
        self._show_logs()
        here = self.logs.cursor
        index = self.view.next_error(here, +1, wrap=False)
        if index is None or index >= self.logs.row_count:
            index = self.view.next_error(self.logs.row_count, -1, wrap=False)
        self._jump(index, "errors")

    def action_previous_error(self) -> None:
        """Previous (older) error above the cursor."""
        self._show_logs()
        self._jump(self.view.next_error(self.logs.cursor, -1, wrap=False), "earlier error")

    def _match(self, direction: int) -> None:
        if self.search is None:
            self.notify("no search: type an expression with /", timeout=2)
            return
        self._show_logs()
        self._jump(self.view.next_match(self.search, self.logs.cursor, direction), "more matches")

    def action_next_match(self) -> None:
        """Next record matching the last expression."""
        self._match(+1)

    def action_previous_match(self) -> None:
        """Previous record matching the last expression."""
        self._match(-1)

    # views and panes
    def _show_logs(self) -> None:
        if self.current_view != "logs":
            self.action_show_logs()

    def action_show_logs(self) -> None:
        """Switch to the logs view."""
        self.widgets.switcher.current = "logs"
        self.logs.focus()
        if self.detail.display:
            self.show_record(self.logs.selected_seq)

    def action_show_traces(self) -> None:
        """Switch to the traces view (brought up to date)."""
        self.widgets.switcher.current = "traces"
        self.traces_view.sync(None)
        self.traces_view.focus()

    def action_critical_path(self) -> None:
        """Traces view: fold every span that is not on its trace's critical path (again: unfold)."""
        if self.current_view != "traces":
            self.action_show_traces()
        folded = self.traces_view.toggle_critical()
        self.notify("critical path only (C unfolds)" if folded else "all spans", timeout=1.5)

    def action_toggle_detail(self) -> None:
        """Show or hide the detail pane."""
        self.detail.display = not self.detail.display
        if self.detail.display:
            if self.current_view == "logs":
                self.show_record(self.logs.selected_seq)
        else:
            self._focus_main()

    def action_switch_pane(self) -> None:
        """Move focus between the main view and the detail pane (opening it if hidden)."""
        if len(self.screen_stack) > 1 or self.widgets.filter.display:
            # Help, the palette and the filter bar keep tab for themselves.
            self.screen.focus_next()
            return
        if self.focused is self.detail:
            self._focus_main()
            return
        if not self.detail.display:
            self.action_toggle_detail()
        self.detail.focus()

    def action_help(self) -> None:
        """Show every key."""
        from agent_tui.tui.screens.help import HelpScreen  # noqa: PLC0415 -- not before the first screen

        self.push_screen(HelpScreen())

    # traces
    def action_open_trace(self) -> None:
        """Open the selected record's trace expanded to it, the failing span's traceback in detail."""
        seq = self.logs.selected_seq
        if seq is None:
            return
        trace = self.model.traces.trace_of(seq)
        if trace is None:
            self.notify("this record has no trace id", timeout=2)
            return
        self.open_trace_at(trace, seq)

    def open_trace_at(self, trace: Trace, seq: int) -> None:
        """Show ``trace`` in the traces view at record ``seq``, its failing span's traceback in detail."""
        self.widgets.switcher.current = "traces"
        tree = self.traces_view
        tree.sync(None)
        tree.select_ref(NodeRef("event", trace.trace_id, self.model.store.record(seq).span_id, seq))
        failing = self.model.traces.failing_span(trace)
        self.detail.display = True
        if failing is not None:
            tree.select_ref(NodeRef("span", trace.trace_id, failing.span_id))
            self.show_span(trace, failing)
        else:
            self.show_record(seq)
        tree.focus()

    @on(Tree.NodeHighlighted, "#traces")
    def _trace_node(self, event: Tree.NodeHighlighted[NodeRef]) -> None:
        ref = event.node.data
        if ref is None or not self.detail.display:
            return
        trace = self.model.traces.get(ref.trace_id)
        if ref.kind == "event" and ref.seq is not None:
            self.show_record(ref.seq)
        elif trace is not None and ref.kind == "span":
            span = next((s for s in walk_spans(trace.roots) if s.span_id == ref.span_id), None)
            if span is not None:
                self.show_span(trace, span)
        elif trace is not None:
            self.show_trace(trace)

    def show_record(self, seq: int | None) -> None:
        """Put a record's attributes (or raw text) in the detail pane."""
        if seq is None:
            self.detail.show("detail", None)
            return
        store = self.model.store
        title = f"record #{seq} · {store.source_name(store.source_of(seq))}"
        self.detail.show(title, record_json(store, seq))

    def show_span(self, trace: Trace, span: Span) -> None:
        """Put a span (with its error, traceback and causes) in the detail pane."""
        self.detail.show(f"span {span.op or span.span_id}", span_json(span, trace.trace_id))

    def show_trace(self, trace: Trace) -> None:
        """Put a trace summary in the detail pane, with the failing span's error when there is one."""
        doc = trace_json(trace)
        failing = self.model.traces.failing_span(trace)
        if failing is not None and failing.error is not None:
            doc["failing_span"] = failing.op
            doc["error"] = error_json(failing.error)
        flags = self.model.flags.of(trace.trace_id)
        if flags:
            doc["flags"] = {name: flags[name].reason for name in self.model.flags.names(trace.trace_id)}
        self.detail.show(f"trace {trace.trace_id}", doc)

    # copy and export
    def action_copy_trace_id(self) -> None:
        """Copy the selected record's (or trace node's) trace id to the clipboard via OSC 52."""
        trace_id: str | None = None
        if self.current_view == "traces":
            node = self.traces_view.cursor_node
            trace_id = node.data.trace_id if node is not None and node.data is not None else None
        elif (seq := self.logs.selected_seq) is not None:
            trace_id = self.model.store.record(seq).trace_id
        if not trace_id:
            self.notify("no trace id here", timeout=2)
            return
        self.copy_to_clipboard(trace_id)
        self.notify(f"copied trace id {safe_text(trace_id)}", timeout=2, markup=False)

    def action_export_view(self) -> None:
        """Write the rows of the current view to a JSONL file, the disk used off the UI loop; say where."""
        seqs = self.view[: self.logs.row_count]
        self.run_worker(self._export(seqs, self.clock.now()), group="export")

    async def _export(self, seqs: list[int], now: float) -> None:
        try:
            path = await asyncio.to_thread(export_path, self.export_dir, now)
            written, gone = await export_rows(path, seqs, self.model.store.raw, self.export_open)
        except OSError as exc:
            self.notify(f"export failed: {exc.strerror or exc}", severity="error", markup=False)
            return
        except ExportStopped as stopped:
            text = failure_text(path, stopped, len(seqs))
            self.notify(safe_text(text), title="export", severity="error", timeout=10, markup=False)
            return
        note = f" ({gone} evicted meanwhile)" if gone else ""
        text = f"exported {written} records to {path}{note}"
        self.notify(safe_text(text), title="export", timeout=6, markup=False)
