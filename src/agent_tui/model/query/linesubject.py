"""A parsed line as the filter language sees it: the normalised record, its attributes, its bytes."""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from typing import Any

from agent_tui.model.parsing.parse import Parsed, attrs_of
from agent_tui.model.record import Record

__all__ = ["LineSubject", "RowSubject"]


class LineSubject:
    """What a filter looks at for one parsed line: the normalised record, lazily its attributes, the bytes."""

    __slots__ = ("_attrs", "_parsed", "_record", "raw")

    def __init__(self, parsed: Parsed, line: bytes) -> None:
        self._parsed = parsed
        self._record: Record | None = None
        self._attrs: Mapping[str, Any] | None = parsed.attrs
        self.raw = line

    @property
    def record(self) -> Record:
        """The normalised record (``seq`` 0: a line read outside any store)."""
        if self._record is None:
            p = self._parsed
            self._record = Record(
                seq=0,
                ts=p.ts,
                level=p.level,
                event=p.event,
                trace_id=p.trace_id,
                span_id=p.span_id,
                parent_span_id=p.parent_span_id,
                op=p.op,
                error=p.error,
                length=len(self.raw),
                raw=p.raw,
                ts_inferred=p.ts_inferred,
            )
        return self._record

    @property
    def attrs(self) -> Mapping[str, Any]:
        """The user-facing attribute mapping of the line."""
        if self._attrs is None:
            self._attrs = attrs_of(self.raw)
        return self._attrs


class RowSubject(tuple[Any, ...]):
    """A parser row (``LineParser.parse_rows``) as a filter that reads only the record sees it.

    The row is its own ``record``: the same values ``LineSubject.record`` would copy into a Record, read in
    place. Only for filters with ``record_only`` set (no attributes, no raw bytes).
    """

    __slots__ = ()

    ts = property(itemgetter(1))
    ts_inferred = property(itemgetter(2))
    level = property(itemgetter(3))
    event = property(itemgetter(4))
    trace_id = property(itemgetter(5))
    span_id = property(itemgetter(6))
    parent_span_id = property(itemgetter(7))
    op = property(itemgetter(8))
    error = property(itemgetter(9))

    @property
    def record(self) -> Record:
        """The row itself, read as a Record."""
        return self  # type: ignore[return-value]

    @property
    def attrs(self) -> Mapping[str, Any]:
        """Never read by a record-only filter."""
        raise TypeError("a record-only filter read the attributes")

    @property
    def raw(self) -> bytes:
        """Never read by a record-only filter."""
        raise TypeError("a record-only filter read the line")
