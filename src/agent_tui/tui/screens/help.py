"""The help screen (``?``): every key and what it does, from the same table as the bindings."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from agent_tui.tui.keys import KEYS

__all__ = ["HelpScreen"]


def key_table() -> Table:
    """The key table as a Rich table built from plain strings."""
    table = Table(box=None, show_header=True, header_style="bold", expand=True)
    table.add_column("key", no_wrap=True)
    table.add_column("action")
    for key in KEYS:
        table.add_row(key.label, key.description)
    return table


class HelpScreen(ModalScreen[None]):
    """A scrollable list of keys; any of esc, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
    ]

    def compose(self) -> ComposeResult:
        """Title, the table and how to leave."""
        with VerticalScroll(id="help-box"):
            yield Static("agent-tui keys   (esc closes · ctrl+p searches every action)", id="help-title")
            yield Static(key_table(), id="help-table")

    def action_scroll(self, lines: int) -> None:
        """Scroll the table."""
        self.query_one("#help-box", VerticalScroll).scroll_relative(y=lines, animate=False)
