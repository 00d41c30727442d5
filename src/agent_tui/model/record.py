"""The normalised record every reader and view shares."""

from __future__ import annotations

from dataclasses import dataclass

from agent_tui.schema import Level

__all__ = ["ErrorInfo", "Record"]


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """An error or exception carried by a record, whatever shape the source library wrote."""

    type: str
    message: str
    traceback: tuple[str, ...] = ()
    cause: ErrorInfo | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """One log record, normalised by the alias rules of DESIGN §5.

    Attributes beyond these fields are parsed lazily by the store (``Store.attrs(seq)``).
    """

    seq: int
    """Position in the store, 0-based, in arrival order."""
    ts: float
    """Event time, epoch seconds UTC."""
    level: Level
    event: str
    """The message: ``event``/``msg``/``message``…, or the raw text for unparsed lines."""
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    op: str | None = None
    error: ErrorInfo | None = None
    source: int = 0
    """Index of the source the line came from (``Store.source_name(i)`` gives its name)."""
    offset: int = 0
    """Byte offset of the line in its source file (or spill file)."""
    length: int = 0
    raw: bool = False
    """True when the line could not be parsed as a JSON object and is shown as text."""
    ts_inferred: bool = False
    """True when the line had no usable time and took the previous record's."""
