"""The filter bar (``/``): the filter language with live validation, a caret under errors, and history."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from agent_tui.model.query import Filter, FilterError
from agent_tui.tui.sanitize import safe_text

__all__ = ["FilterBar"]

Compiler = Callable[[str], Filter]


class FilterInput(Input):
    """The text field; up/down walk the history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Older filter", show=False),
        Binding("down", "history(1)", "Newer filter", show=False),
        Binding("escape", "close", "Close", show=False),
    ]

    def action_history(self, step: int) -> None:
        """Show an older (-1) or newer (+1) filter from the history."""
        bar = self.parent
        if isinstance(bar, Vertical) and isinstance(bar.parent, FilterBar):
            bar.parent.step_history(step)

    def action_close(self) -> None:
        """Close the bar without changing the active filter."""
        self.post_message(FilterBar.Closed())


class FilterBar(Vertical):
    """Input plus a status line; posts :class:`Applied` on enter only when the text compiles."""

    class Applied(Message):
        """A valid filter was submitted (empty text clears the filter)."""

        def __init__(self, text: str, compiled: Filter | None) -> None:
            super().__init__()
            self.text = text
            """The expression as typed."""
            self.compiled = compiled
            """The compiled Filter, or None for an empty expression."""

    class Closed(Message):
        """The user dismissed the bar (esc)."""

    def __init__(self, compile_filter: Compiler, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._compile = compile_filter
        self.history: list[str] = []
        self._history_pos = 0
        self.error: FilterError | None = None
        """The last validation error, shown with a caret; the previous filter stays active meanwhile."""

    def compose(self) -> ComposeResult:
        """An input line and a one-line status under it."""
        with Vertical(id="filter-box"):
            yield FilterInput(
                placeholder="filter: level >= warning and event ~ 'bet'  (enter apply, esc close)"
            )
            yield Static(Text(""), id="filter-status", markup=False)

    @property
    def input(self) -> Input:
        """The text field."""
        return self.query_one(FilterInput)

    def open(self, current: str) -> None:
        """Show the bar with ``current`` as the starting text and focus it."""
        self.display = True
        self._history_pos = len(self.history)
        self.input.value = current
        self.input.cursor_position = len(current)
        self.input.focus()
        self._validate(current)

    def step_history(self, step: int) -> None:
        """Replace the text with the neighbouring history entry."""
        if not self.history:
            return
        self._history_pos = max(0, min(len(self.history), self._history_pos + step))
        text = self.history[self._history_pos] if self._history_pos < len(self.history) else ""
        self.input.value = text
        self.input.cursor_position = len(text)

    def _validate(self, text: str) -> Filter | None:
        status = self.query_one("#filter-status", Static)
        if not text.strip():
            self.error = None
            status.update(Text("empty: enter clears the filter"))
            status.remove_class("error")
            return None
        try:
            compiled = self._compile(text)
        except FilterError as exc:
            self.error = exc
            status.update(Text(safe_text(exc.caret()).replace("␊", "\n")))
            status.add_class("error")
            return None
        self.error = None
        status.update(Text("✓ valid, enter to apply"))
        status.remove_class("error")
        return compiled

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self._validate(event.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        compiled = self._validate(text)
        if text and compiled is None:
            return
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self.post_message(self.Applied(text, compiled))
