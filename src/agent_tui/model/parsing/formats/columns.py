"""Parsed batches as rows (tuples) or columns (parallel lists): the forms a columnar store appends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from agent_tui.model.record import ErrorInfo
from agent_tui.schema import Level

__all__ = ["ROW_FIELDS", "Columns", "Row"]

ROW_FIELDS: Final = (
    "index",
    "ts",
    "ts_inferred",
    "level",
    "event",
    "trace_id",
    "span_id",
    "parent_span_id",
    "op",
    "error",
    "raw",
    "attrs",
)
"""Field order of ``LineParser.parse_rows`` tuples: the line index in the batch, then ``Parsed``'s fields."""

Row = tuple[
    int, float, bool, Level, str, str | None, str | None, str | None, str | None, ErrorInfo | None, bool, Any
]
"""One parsed record as a plain tuple (see ``ROW_FIELDS``)."""


@dataclass(slots=True)
class Columns:
    """One batch's records as parallel lists, in ``ROW_FIELDS`` order; ``index`` is the line in the batch."""

    index: list[int]
    ts: list[float]
    ts_inferred: list[bool]
    level: list[Level]
    event: list[str]
    trace_id: list[str | None]
    span_id: list[str | None]
    parent_span_id: list[str | None]
    op: list[str | None]
    error: list[ErrorInfo | None]
    raw: list[bool]
    attrs: list[Any]
    """The decoded mappings when the parser keeps them, else Nones."""
    side_lines: list[int] | None = None
    """Lines that may hold a key sums and signals read (``LineParser.side_keys``); None: any may."""

    def __len__(self) -> int:
        return len(self.index)

    def rows(self) -> list[Row]:
        """The records as tuples (``zip`` of the columns)."""
        return list(
            zip(
                self.index, self.ts, self.ts_inferred, self.level, self.event, self.trace_id, self.span_id,
                self.parent_span_id, self.op, self.error, self.raw, self.attrs, strict=True,
            )
        )  # fmt: skip

    @classmethod
    def from_rows(cls, rows: Sequence[Row]) -> Columns:
        """Columns from row tuples."""
        if not rows:
            return cls([], [], [], [], [], [], [], [], [], [], [], [])
        index, ts, inferred, level, event, trace, span, parent, op, error, raw, attrs = map(
            list, zip(*rows, strict=True)
        )
        return cls(index, ts, inferred, level, event, trace, span, parent, op, error, raw, attrs)
