"""The dead-letters view: every ``--dlq`` database's entries, polled read-only off the UI thread."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar, Final

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from agent_tui.model.deadletters.reader import DeadLetter, DeadLetterDbError, DeadLetterTable
from agent_tui.model.deadletters.watch import DeadLetterWatch
from agent_tui.tui.messages import DeadLetterOpened, DeadLettersChanged
from agent_tui.tui.sanitize import safe_text
from agent_tui.tui.widgets.stats_bar import DeadLetterSummary

__all__ = ["POLL_S", "DeadLettersView"]

POLL_S: Final = 1.0
"""How often each database's files are checked for a change (a read happens only on change)."""
MAX_ROWS: Final = 2000
_COLUMNS: Final = ("", "last attempt", "agent", "operation", "code", "tries", "trace", "message", "db")

Result = DeadLetterTable | DeadLetterDbError


def _when(ts: float | None) -> str:
    return "?" if ts is None else time.strftime("%m-%d %H:%M:%S", time.gmtime(ts))


def _cell(text: str | None, limit: int = 60) -> Text:
    shown = safe_text(text or "-")
    return Text(shown if len(shown) <= limit else shown[: limit - 1] + "…", no_wrap=True)


def _marker(entry: DeadLetter) -> Text:
    if entry.problems:
        return Text("⚠", style="bold yellow")
    return Text("✓", style="green") if entry.resolved else Text("●", style="bold red")


class DeadLettersView(Vertical):
    """A status line and a table: unresolved entries first, newest first; ``enter`` opens the trace."""

    class _Read(Message):
        def __init__(self, results: Mapping[str, Result]) -> None:
            super().__init__()
            self.results = dict(results)

    def __init__(self, paths: Sequence[str], *, id: str | None = None) -> None:
        """Watch ``paths`` (SQLite files with a ``dead_letters`` table) once mounted."""
        super().__init__(id=id)
        self.paths = list(dict.fromkeys(paths))
        self.results: dict[str, Result] = {}
        self.entries: list[DeadLetter] = []

    def compose(self) -> ComposeResult:
        """Status line over the table."""
        yield Static(self._status_text(), id="dead-letters-status")
        table: DataTable[Text] = _Table(cursor_type="row", zebra_stripes=False, id="dead-letters-table")
        table.add_columns(*_COLUMNS)
        yield table

    @property
    def table(self) -> DataTable[Text]:
        """The entries table (focus it to move and press enter)."""
        return self.query_one("#dead-letters-table", DataTable)

    def on_mount(self) -> None:
        """Start polling the databases."""
        if self.paths:
            self.run_worker(self._watch(), group="dead-letters", exclusive=True)

    async def _watch(self) -> None:
        """Poll in a thread (SQLite and stat never run on the UI thread); post only changes."""
        watches = [DeadLetterWatch(path) for path in self.paths]
        while True:
            results = await asyncio.to_thread(_poll_all, watches)
            if results:
                self.post_message(self._Read(results))
            await asyncio.sleep(POLL_S)

    @on(_Read)
    def _read(self, message: _Read) -> None:
        message.stop()
        changed = False
        for path, result in message.results.items():
            if not _same(self.results.get(path), result):
                self.results[path] = result
                changed = True
        if changed:
            self._rebuild()
            self.post_message(DeadLettersChanged(self.summary()))

    def summary(self) -> DeadLetterSummary:
        """Unresolved count, database names and current problems."""
        unresolved = sum(r.unresolved for r in self.results.values() if isinstance(r, DeadLetterTable))
        problems = tuple(str(r) for r in self.results.values() if isinstance(r, DeadLetterDbError))
        return DeadLetterSummary(unresolved, tuple(Path(p).name for p in self.paths), problems)

    def _status_text(self) -> Text:
        if not self.paths:
            return Text("no dead-letter database: start with --dlq DB (or follow a directory holding one)")
        parts = []
        for path in self.paths:
            result = self.results.get(path)
            if result is None:
                parts.append(f"{Path(path).name}: reading…")
            elif isinstance(result, DeadLetterDbError):
                parts.append(f"⚠ {result}")
            else:
                parts.append(f"{Path(path).name}: {result.unresolved} unresolved of {result.total}")
        return Text(safe_text(" · ".join(parts)) + "   (enter: open the trace)", no_wrap=True)

    def _rebuild(self) -> None:
        entries = [e for r in self.results.values() if isinstance(r, DeadLetterTable) for e in r.entries]
        entries.sort(key=lambda e: (not e.resolved, e.last_attempt_ts or 0.0, e.rowid), reverse=True)
        self.entries = entries[:MAX_ROWS]
        table = self.table
        selected = self.selected
        table.clear()
        for entry in self.entries:
            table.add_row(*self._cells(entry), key=f"{entry.db}\0{entry.rowid}")
        if selected is not None:
            for index, entry in enumerate(self.entries):
                if (entry.db, entry.rowid) == (selected.db, selected.rowid):
                    table.move_cursor(row=index, animate=False)
                    break
        self.query_one("#dead-letters-status", Static).update(self._status_text())

    def _cells(self, entry: DeadLetter) -> list[Text]:
        agent = entry.agent_id or entry.service
        tries = None if entry.attempts is None else str(entry.attempts)
        message = entry.error_message
        if entry.problems:
            message = f"{message or '-'}  ⚠ {'; '.join(entry.problems)}"
        return [
            _marker(entry),
            _cell(_when(entry.last_attempt_ts)),
            _cell(agent, 20),
            _cell(entry.operation_type, 24),
            _cell(entry.error_code, 24),
            _cell(tries),
            _cell(entry.trace_id, 34),
            _cell(message, 80),
            _cell(Path(entry.db).name, 20),
        ]

    @property
    def selected(self) -> DeadLetter | None:
        """The entry under the cursor."""
        row = self.table.cursor_row
        return self.entries[row] if self.entries and 0 <= row < len(self.entries) else None

    @on(DataTable.RowSelected, "#dead-letters-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        entry = self.selected
        if entry is not None:
            self.post_message(DeadLetterOpened(entry))


class _Table(DataTable[Text]):
    """The entries table with the logs view's movement keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]


def _poll_all(watches: Sequence[DeadLetterWatch]) -> dict[str, Result]:
    results: dict[str, Result] = {}
    for watch in watches:
        result = watch.poll()
        if result is not None:
            results[watch.path] = result
    return results


def _same(old: Result | None, new: Result) -> bool:
    if isinstance(old, DeadLetterDbError) and isinstance(new, DeadLetterDbError):
        return str(old) == str(new)
    return old == new
