"""Format one record as one plain-text log row (time, level badge, agent, event, key fields)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

import orjson
from rich.style import Style
from rich.text import Text

from agent_tui.model.record import Record
from agent_tui.model.views.shown import agent_key, shown_keys
from agent_tui.schema import Level
from agent_tui.tui.sanitize import safe_text

__all__ = ["BADGES", "Piece", "RowStyles", "format_row", "format_time", "key_fields", "row_pieces"]

BADGES: Final[Mapping[Level, str]] = {
    Level.TRACE: "TRC ",
    Level.DEBUG: "DBG ",
    Level.INFO: "INFO",
    Level.NOTICE: "NOTE",
    Level.WARNING: "WARN",
    Level.ERROR: "ERR ",
    Level.CRITICAL: "CRIT",
}
_HIDDEN: Final = frozenset(
    {
        "ts",
        "timestamp",
        "time",
        "@timestamp",
        "level",
        "levelname",
        "severity",
        "event",
        "msg",
        "message",
        "agent_id",
        "service",
        "logger",
        "trace_id",
        "span_id",
        "parent_span_id",
        "error",
    }
)
_VALUE_MAX: Final = 40
_AGENT_WIDTH: Final = 12
_LINE_MAX: Final = 1000
"""Characters of an event drawn on a row (a 10 MB line is cut before it is sanitised)."""


class RowStyles:
    """The Rich styles a row is drawn with, resolved from the theme's component classes."""

    __slots__ = ("agent", "base", "critical", "cursor", "error", "key", "levels", "raw", "time")

    def __init__(
        self,
        *,
        base: Style,
        time: Style,
        agent: Style,
        key: Style,
        raw: Style,
        levels: Mapping[Level, Style],
        cursor: Style | None = None,
        error: Style | None = None,
        critical: Style | None = None,
    ) -> None:
        self.base = base
        self.time = time
        self.agent = agent
        self.key = key
        self.raw = raw
        self.levels = levels
        self.cursor = cursor or Style(reverse=True)
        """Background of the selected row."""
        self.error = error or Style()
        """Background of error rows."""
        self.critical = critical or Style()
        """Background of critical rows."""


_time_cache: dict[int, str] = {}


def format_time(ts: float) -> str:
    """``HH:MM:SS.mmm`` in local time (UTC under ``TZ=UTC``), with the per-second part cached."""
    second = int(ts)
    head = _time_cache.get(second)
    if head is None:
        if len(_time_cache) > 4096:
            _time_cache.clear()
        head = time.strftime("%H:%M:%S", time.localtime(second))
        _time_cache[second] = head
    return f"{head}.{min(999, round((ts - second) * 1000)):03d}"


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = orjson.dumps(value).decode()
        except TypeError:
            text = str(value)
    if len(text) > _VALUE_MAX:
        text = text[: _VALUE_MAX - 1] + "…"
    return safe_text(text)


def key_fields(record: Record, attrs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ``key=value`` pairs worth a glance: op, error type/message, then the record's own extras.

    Fields the row already shows in another form (pino's ``time``, python-json-logger's ``asctime``
    and ``name``, ``traceId``, the ``err`` that became the error) are left out.
    """
    pairs: list[tuple[str, str]] = []
    if record.error is not None:
        pairs.append(("error", safe_text(f"{record.error.type}: {record.error.message}")[:80]))
    used = shown_keys(attrs, has_error=record.error is not None)
    for key, value in attrs.items():
        if key in _HIDDEN or key in used or isinstance(value, dict | list):
            continue
        pairs.append((safe_text(key), _value_text(value)))
    return pairs


def agent_of(record: Record, attrs: Mapping[str, Any], fallback: str) -> str:
    """Who wrote the record: ``agent_id``/``service``/``logger``, else the source's file name."""
    key = agent_key(attrs)
    if key is not None:
        return safe_text(attrs[key])
    # The column is narrow: a file's name says more than the start of its directory path.
    return safe_text(fallback.rstrip("/").rsplit("/", 1)[-1] or fallback)


Piece = tuple[str, Style | None]


def row_pieces(
    record: Record,
    attrs: Mapping[str, Any],
    source_name: str,
    styles: RowStyles,
    *,
    marker: str = " ",
    agent_width: int = _AGENT_WIDTH,
) -> list[Piece]:
    """The row as ``(plain text, style)`` pieces, ready to become Segments (never parsed as markup)."""
    pieces: list[Piece] = [
        (marker, None),
        (format_time(record.ts), styles.time),
        (" ", None),
        (BADGES.get(record.level, "????"), styles.levels.get(record.level)),
        (" ", None),
    ]
    if record.raw:
        pieces.append((safe_text(record.event[:_LINE_MAX]), styles.raw))
        return pieces
    agent = agent_of(record, attrs, source_name)
    pieces.append((agent[:agent_width].ljust(agent_width), styles.agent))
    pieces.append((" " + safe_text(record.event[:_LINE_MAX]), None))
    for key, value in key_fields(record, attrs):
        pieces.append((" ", None))
        pieces.append((key, styles.key))
        pieces.append(("=" + value, None))
    return pieces


def format_row(
    record: Record,
    attrs: Mapping[str, Any],
    source_name: str,
    styles: RowStyles,
    *,
    marker: str = " ",
    agent_width: int = _AGENT_WIDTH,
) -> Text:
    """The row as a :class:`rich.text.Text` (for tests and exports of what the view draws)."""
    text = Text(no_wrap=True, end="", style=styles.base)
    for piece, style in row_pieces(
        record, attrs, source_name, styles, marker=marker, agent_width=agent_width
    ):
        text.append(piece, style)
    return text
