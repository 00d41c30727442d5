"""The one table of keys: it generates the app's bindings, the help screen and the command palette."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from textual.binding import Binding

__all__ = ["KEYS", "Key", "app_bindings"]


@dataclass(frozen=True, slots=True)
class Key:
    """One user action and the key(s) that run it."""

    keys: str
    """Textual key names, comma separated (``j,down``)."""
    label: str
    """How the help screen writes the key."""
    action: str
    """The app action (``toggle_follow``) or ``""`` when a widget handles it."""
    description: str
    """One short line (the help screen shows two columns of them at 80 columns)."""
    short: str = ""
    """Footer label; keys without one stay out of the footer."""
    priority: bool = False
    """Checked before the screen's own bindings (Textual's screen binds tab to focus-next)."""


KEYS: Final[tuple[Key, ...]] = (
    Key("j,down", "j / ↓", "", "down one record"),
    Key("k,up", "k / ↑", "", "up one record"),
    Key("g,home", "g / Home", "", "first record"),
    Key("G,end", "G / End", "newest", "newest record + follow"),
    Key("pageup,pagedown", "PgUp / PgDn", "", "one screen up / down"),
    Key("f", "f", "toggle_follow", "follow on/off", "follow"),
    Key("space", "space", "toggle_pause", "pause rows (counts go on)", "pause"),
    Key("slash", "/", "open_filter", "filter: type an expression", "filter"),
    Key("escape", "esc", "escape", "clear filter / close pane"),
    Key("e", "e", "next_error", "next error (end: newest)", "error"),
    Key("E", "E", "previous_error", "previous error"),
    Key("n", "n", "next_match", "next filter match"),
    Key("N", "N", "previous_match", "previous filter match"),
    Key("enter", "enter", "open_trace", "open the record's trace", "trace"),
    Key("t", "t", "show_traces", "traces view", "traces"),
    Key("C", "C", "critical_path", "only the critical path"),
    Key("l", "l", "show_logs", "logs view", "logs"),
    Key("D", "D", "show_dead_letters", "dead letters view (--dlq)"),
    Key("tab", "tab", "switch_pane", "main view ⇄ detail pane", priority=True),
    Key("d", "d", "toggle_detail", "show/hide the detail pane", "detail"),
    Key("1", "1", "min_level(1)", "show every level"),
    Key("2", "2", "min_level(2)", "info and above"),
    Key("3", "3", "min_level(3)", "warnings and above"),
    Key("4", "4", "min_level(4)", "errors and above"),
    Key("5", "5", "min_level(5)", "criticals only"),
    Key("y", "y", "copy_trace_id", "copy trace id (OSC 52)"),
    Key("x", "x", "export_view", "export the view as JSONL"),
    Key("c", "c", "", "detail: copy value"),
    Key("p", "p", "", "detail: copy path"),
    Key("question_mark", "?", "help", "this help", "help"),
    Key("ctrl+p", "ctrl+p", "command_palette", "command palette"),
    Key("q", "q", "quit", "quit", "quit"),
)


def app_bindings() -> list[Binding]:
    """Bindings for every key the app itself handles; ``?`` first so an 80-column footer still shows it."""
    keys = sorted(KEYS, key=lambda k: k.action != "help")
    return [
        Binding(k.keys, k.action, k.short or k.description, show=bool(k.short), priority=k.priority)
        for k in keys
        if k.action and k.action != "command_palette"
    ]
