"""A parsed line as the filter language sees it: the normalised record, its attributes, its bytes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent_tui.model.parsing.parse import Parsed, attrs_of
from agent_tui.model.record import Record

__all__ = ["LineSubject"]


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
