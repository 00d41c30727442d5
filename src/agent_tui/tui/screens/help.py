"""The help screen (``?``): every key and what it does, from the same table as the bindings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from agent_tui.tui.keys import KEYS, Key

__all__ = ["HelpScreen", "key_table"]


def key_table(keys: Sequence[Key]) -> Table:
    """Keys and what they do as a Rich table built from plain strings."""
    table = Table(box=None, show_header=False, padding=(0, 1, 0, 0))
    table.add_column("key", no_wrap=True, style="bold")
    table.add_column("action", ratio=1)
    for key in keys:
        table.add_row(key.label, key.description)
    return table


class HelpScreen(ModalScreen[None]):
    """Every key in two columns (fits 80×24 without scrolling); any of esc, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
    ]

    def __init__(self, extra: Sequence[Key] = ()) -> None:
        """``extra``: keys of the current mode (replay) listed after the app's own."""
        super().__init__()
        self.keys = (*KEYS, *extra)

    def compose(self) -> ComposeResult:
        """Title and the keys split into two tables side by side."""
        half = (len(self.keys) + 1) // 2
        with VerticalScroll(id="help-box"):
            yield Static("agent-tui keys   (esc closes · ctrl+p searches every action)", id="help-title")
            with Horizontal(id="help-columns"):
                yield Static(key_table(self.keys[:half]), id="help-left")
                yield Static(key_table(self.keys[half:]), id="help-right")

    def action_scroll(self, lines: int) -> None:
        """Scroll the keys (only needed on screens smaller than 80×24)."""
        self.query_one("#help-box", VerticalScroll).scroll_relative(y=lines, animate=False)
