"""What a filter predicate looks at: a record, its attributes and its raw line, each fetched lazily."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent_tui.model.record import Record

__all__ = ["StaticSubject", "Subject"]


class Subject(Protocol):
    """One record as a predicate sees it.

    Implementations should compute ``attrs`` and ``raw`` only when asked: a compiled filter touches
    them only if ``Filter.needs_attrs`` / ``Filter.needs_raw`` say so.
    """

    @property
    def record(self) -> Record:
        """The normalised record."""
        ...

    @property
    def attrs(self) -> Mapping[str, Any]:
        """The attribute mapping users filter on (the decoded JSON object for flat formats)."""
        ...

    @property
    def raw(self) -> bytes:
        """The original line bytes, without the newline."""
        ...


@dataclass(frozen=True, slots=True)
class StaticSubject:
    """A Subject whose parts are already at hand (tests, the detail pane, one-off checks)."""

    record: Record
    attrs: Mapping[str, Any] = field(default_factory=dict)
    raw: bytes = b""
