"""The dead-letters view's actions: show it, count it in the stats bar, open an entry's trace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual import on
from textual.await_complete import AwaitComplete

from agent_tui.schema import Level
from agent_tui.tui.messages import DeadLetterOpened, DeadLettersChanged
from agent_tui.tui.sanitize import safe_text
from agent_tui.tui.viewstate import ViewActions
from agent_tui.tui.widgets.trace_view import walk_spans

if TYPE_CHECKING:
    from agent_tui.model.deadletters.reader import DeadLetter
    from agent_tui.model.traces.forest import Trace
    from agent_tui.tui.widgets.dead_letters import DeadLettersView
    from agent_tui.tui.widgets.stats_bar import DeadLetterSummary

__all__ = ["DEAD_LETTERS", "DeadLetterActions"]

DEAD_LETTERS = "dead-letters"
"""The dead-letters view's id in the main switcher."""


class DeadLetterActions(ViewActions):
    """``D`` shows the queues; ``enter`` on an entry leads where ``e``, ``enter`` lead: its failing span.

    The view (a table, SQLite, a polling worker) is mounted only when needed: at ``D``, or after the
    first rows are drawn when there are databases to watch (``mount_dead_letters``).
    """

    dead_letter_paths: Sequence[str]
    dead_letters_view: DeadLettersView
    dead_letter_summary: DeadLetterSummary | None = None
    """The latest counts; None when no database is watched (the stats bar then says nothing)."""
    _dead_letters_mounted: AwaitComplete | None = None

    def refresh_stats(self) -> None:
        """Provided by the app: redraw the stats bar now."""
        raise NotImplementedError

    def mount_dead_letters(self) -> AwaitComplete:
        """Mount the dead-letters view (hidden) into the main switcher once; awaitable until mounted."""
        if self._dead_letters_mounted is None:
            from agent_tui.tui.widgets.dead_letters import DeadLettersView  # noqa: PLC0415 -- see class doc

            self.dead_letters_view = DeadLettersView(self.dead_letter_paths, id=DEAD_LETTERS)
            self._dead_letters_mounted = self.widgets.switcher.add_content(self.dead_letters_view)
        return self._dead_letters_mounted

    async def action_show_dead_letters(self) -> None:
        """Switch to the dead-letters view."""
        await self.mount_dead_letters()
        self.widgets.switcher.current = DEAD_LETTERS
        self.dead_letters_view.table.focus()

    def _focus_main(self) -> None:
        if self.current_view == DEAD_LETTERS:
            self.dead_letters_view.table.focus()
        else:
            super()._focus_main()

    @on(DeadLettersChanged)
    def _dead_letters_changed(self, message: DeadLettersChanged) -> None:
        self.dead_letter_summary = message.summary
        self.refresh_stats()

    @on(DeadLetterOpened)
    def _open_dead_letter(self, message: DeadLetterOpened) -> None:
        """Open the entry's trace at the failing span; an entry without a trace in the logs says so."""
        entry = message.entry
        trace = self.model.traces.get(entry.trace_id) if entry.trace_id else None
        if trace is None:
            reason = f"trace {entry.trace_id} is not in the logs" if entry.trace_id else "no trace id stored"
            self.notify(safe_text(f"dead letter {entry.id}: {reason}"), severity="warning", markup=False)
            self.detail.display = True
            self.detail.show(f"dead letter {entry.id} · {reason}", entry_document(entry))
            return
        self.open_trace_at(trace, self._entry_seq(trace, entry))

    def _entry_seq(self, trace: Trace, entry: DeadLetter) -> int:
        """The record logged with the entry (its span's last error), else the trace's first record."""
        store = self.model.store
        for span in walk_spans(trace.roots):
            if span.span_id == entry.span_id:
                errors = [seq for seq in span.events if store.record(seq).level >= Level.ERROR]
                if errors or span.events:
                    return (errors or span.events)[-1]
        return trace.first_seq


def entry_document(entry: DeadLetter) -> dict[str, Any]:
    """A dead letter as the detail pane shows it (only fields with a value)."""
    names = (
        "id", "operation_type", "error_code", "error_message", "last_attempt_ts", "first_attempt_ts",
        "resolved", "attempts", "agent_id", "service", "trace_id", "span_id", "payload", "db",
    )  # fmt: skip
    doc = {name: getattr(entry, name) for name in names if getattr(entry, name) is not None}
    if entry.problems:
        doc["problems"] = list(entry.problems)
    return doc
