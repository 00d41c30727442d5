"""The reading model's facade: parse each batch once, index it, fold it into traces and stats."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent_tui.model.clock import Clock, SystemClock
from agent_tui.model.parse import LineParser, attrs_of
from agent_tui.model.stats import RollingStats
from agent_tui.model.store import ParsedLike, Store
from agent_tui.model.traces import TraceForest
from agent_tui.sources.base import LineBatch

__all__ = ["IngestResult", "LineParserLike", "LogModel"]


class LineParserLike(Protocol):
    """What the model needs from ``agent_tui.model.parse.LineParser``."""

    def parse(self, line: bytes) -> Sequence[ParsedLike]:
        """Map one line."""
        ...

    def parse_batch(self, lines: Sequence[bytes]) -> Sequence[tuple[int, ParsedLike]]:
        """Map a batch of lines to ``(line index, parsed)`` pairs."""
        ...


ParserFactory = Callable[[Mapping[str, str] | None], LineParserLike]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one ``LogModel.ingest`` call added."""

    first_seq: int
    """Seq of the first new record."""
    count: int
    """Number of new records (seqs ``first_seq .. first_seq + count - 1``)."""
    new_errors: list[int] = field(default_factory=list)
    """Seqs of new records at error level or above."""
    new_criticals: list[int] = field(default_factory=list)
    """Seqs of new critical records."""
    touched_traces: set[str] = field(default_factory=set)
    """Ids of the traces that gained records."""
    source: int = 0
    """Id of the source the batch came from."""
    evicted: int = 0
    """Total records evicted so far (after this batch)."""
    order_epoch: int = 0
    """``Store.order_epoch`` after this batch (changes when new records landed mid-order)."""


def _default_parser(overrides: Mapping[str, str] | None) -> LineParserLike:
    return LineParser(overrides, keep_attrs=True)


def _default_attrs(line: bytes, part: int = 0) -> Mapping[str, Any]:
    return attrs_of(line, part)


class LogModel:
    """Owns one parser per source, the Store, the TraceForest and the RollingStats.

    ``ingest`` is the only mutation point; everything else reads.

    Args:
        max_records: bound on records kept (oldest evicted first, counted in ``store.evicted``).
        clock: time source for rolling stats when following.
        following: count stats by arrival time (live tail) instead of record time.
        overrides: ``--field ROLE=KEY`` overrides for every source's parser.
        parser_factory: builds a parser for a source (defaults to ``agent_tui.model.parse.LineParser``).
        spill_dir: directory for the spill file of file-less sources.
    """

    def __init__(
        self,
        *,
        max_records: int | None = None,
        clock: Clock | None = None,
        following: bool = False,
        overrides: Mapping[str, str] | None = None,
        parser_factory: ParserFactory | None = None,
        spill_dir: str | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.following = following
        self._overrides = dict(overrides) if overrides else None
        self._factory: ParserFactory = parser_factory or _default_parser
        self._parsers: dict[int, LineParserLike] = {}
        self.store = Store(
            max_records=max_records, spill_dir=spill_dir, reparse=self._reparse, attrs_of=_default_attrs
        )
        self.traces = TraceForest(self.store, attrs_of=_default_attrs)
        self.stats = RollingStats(self.clock, following=following)

    def ingest(self, batch: LineBatch) -> IngestResult:
        """Parse, index and fold one batch of lines; return what was added."""
        store = self.store
        source = store.source_id(batch.source)
        parser = self._parsers.get(source)
        if parser is None:
            parser = self._parsers[source] = self._factory(self._overrides)
        pairs = parser.parse_batch(batch.lines)
        evicted_before = store.first_seq
        appended = store.append(source, batch, pairs)
        touched = self.traces.add(appended)
        self.stats.add(appended)
        if store.first_seq != evicted_before and store.columns_base == store.first_seq:
            self.traces.forget_before(store.first_seq)
        return IngestResult(
            appended.first_seq,
            appended.count,
            appended.new_errors,
            appended.new_criticals,
            touched,
            source,
            store.evicted,
            store.order_epoch,
        )

    def _reparse(self, source: int, line: bytes) -> Sequence[ParsedLike]:
        # A fresh parser: re-reading one line must not disturb the source's running state.
        return self._factory(self._overrides).parse(line)

    def close(self) -> None:
        """Release the store's files."""
        self.store.close()
