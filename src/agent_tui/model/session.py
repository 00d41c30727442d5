"""The reading model's facade: parse each batch once, index it, fold it into traces and stats."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from agent_tui.batch import LineBatch
from agent_tui.model.clock import Clock, SystemClock
from agent_tui.model.livebatch import (
    LiveParsed,
    ParserState,
    SideValues,
    parser_state,
    resume_parser,
    side_parser,
)
from agent_tui.model.parsing.columns import Appended, ParsedLike, columns_parser
from agent_tui.model.parsing.formats.columns import Columns
from agent_tui.model.parsing.loader import (
    PARALLEL_MIN_BYTES,
    PIECE_BYTES,
    Shipped,
    parallel_batches,
    sequential_batches,
)
from agent_tui.model.parsing.parse import LineParser
from agent_tui.model.parsing.recordlines import parse_record, record_attrs
from agent_tui.model.store.index import Store
from agent_tui.model.traces.analysis import FlagTracker, Thresholds
from agent_tui.model.traces.forest import TraceForest
from agent_tui.model.views.stats import RollingStats

if TYPE_CHECKING:
    from agent_tui.model.liveparse import ParseWorker

__all__ = ["IngestResult", "LineParserLike", "LogModel"]


class LineParserLike(Protocol):
    """What the model needs from ``agent_tui.model.parsing.parse.LineParser``."""

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


class _Combined:
    """One result for many ingested batches, folded in as they come so no batch's result is kept."""

    def __init__(self) -> None:
        self.first: IngestResult | None = None
        self.last: IngestResult | None = None
        self.count = 0
        self.errors: list[int] = []
        self.criticals: list[int] = []
        self.touched: set[str] = set()

    def add(self, result: IngestResult) -> None:
        """Fold in one batch's result."""
        if self.first is None:
            self.first = result
        self.last = result
        self.count += result.count
        self.errors += result.new_errors
        self.criticals += result.new_criticals
        self.touched |= result.touched_traces

    def result(self, end_seq: int) -> IngestResult:
        """The combined result (nothing added: an empty one at ``end_seq``)."""
        first, last = self.first, self.last
        if first is None or last is None:
            return IngestResult(end_seq, 0)
        return IngestResult(
            first.first_seq,
            self.count,
            self.errors,
            self.criticals,
            self.touched,
            last.source,
            last.evicted,
            last.order_epoch,
        )


def _default_parser(overrides: Mapping[str, str] | None) -> LineParserLike:
    # No kept mappings: lines are read by projection, and sums and signals by ``PartialAttrs`` (on the
    # lines the parser marks as holding a key they read).
    return side_parser(overrides)


_NO_COLUMNS = Columns([], [], [], [], [], [], [], [], [], [], [], [])
"""A batch that made no record (Docker partial lines, blank lines): its lines are still placed."""


def _default_attrs(line: bytes, part: int = 0) -> Mapping[str, Any]:
    return record_attrs(line, part)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a headless process indexes a whole file.

    Indexing allocates millions of short-lived objects and no cycles, but each full collection walks every
    live container: about 0.5 s of parent CPU per million lines. Only a process running no other thread
    (the headless commands) pauses it; the TUI paces its own collections.
    """
    if threading.active_count() > 1 or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class LogModel:
    """Owns one parser per source, the Store, the TraceForest and the RollingStats.

    ``ingest`` is the only mutation point; everything else reads.

    Args:
        max_records: bound on records kept (oldest evicted first, counted in ``store.evicted``).
        clock: time source for rolling stats when following.
        following: count stats by arrival time (live tail) instead of record time.
        overrides: ``--field ROLE=KEY`` overrides for every source's parser.
        parser_factory: builds a parser for a source (defaults to
            ``agent_tui.model.parsing.parse.LineParser``).
        spill_dir: directory for the spill file of file-less sources.
        attrs_cache: how many parsed attribute mappings the store keeps.
        thresholds: when flags are raised (``analysis.Thresholds``).
        analysis: raise flags as records arrive (off only to measure what they cost).
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
        attrs_cache: int = 4096,
        thresholds: Thresholds | None = None,
        analysis: bool = True,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.following = following
        self._overrides = dict(overrides) if overrides else None
        self._factory: ParserFactory = parser_factory or _default_parser
        self._parsers: dict[int, LineParserLike] = {}
        self._reparser: LineParserLike | None = None
        """Holds the plans lines are re-read with (see ``_reparse``)."""
        self.store = Store(
            max_records=max_records,
            spill_dir=spill_dir,
            reparse=self._reparse,
            reparse_many=self._reparse_many,
            attrs_of=_default_attrs,
            attrs_cache=attrs_cache,
        )
        self.traces = TraceForest(self.store, attrs_of=_default_attrs)
        self.stats = RollingStats(self.clock, following=following)
        self.flags = FlagTracker(
            self.store,
            self.traces,
            thresholds=thresholds,
            attrs_of=_default_attrs,
            now=self.clock.now if following else None,
        )
        self._analysis = analysis
        self._compacted_at = 0
        # Sums and signals read a few keys: decode just those, once for both (as ``loader.parse_piece``).
        self._side = SideValues(analysis=analysis)

    def ingest(self, batch: LineBatch) -> IngestResult:
        """Parse, index and fold one batch of lines; return what was added."""
        store = self.store
        source = store.source_id(batch.source)
        parser = self._parser(source)
        parse_columns = columns_parser(parser)
        if parse_columns is not None:
            appended = store.append_parsed_columns(source, batch, parse_columns(batch.lines))
        else:
            appended = store.append(source, batch, parser.parse_batch(batch.lines))
        if appended.count and appended.attrs and appended.attrs[0] is None:
            appended = self._side(appended)
        return self._fold(source, appended)

    @property
    def parses_elsewhere(self) -> bool:
        """True when a worker process may parse for this model (its parsers are the default ones)."""
        return self._factory is _default_parser

    def parse_worker(self, wake: Callable[[], object]) -> ParseWorker:
        """A (not yet started) worker process that parses with this model's options."""
        # Imported on use: it brings asyncio (~6 MB resident), which a headless load never needs and
        # every worker process it forks would hold again.
        from agent_tui.model.liveparse import ParseWorker  # noqa: PLC0415

        return ParseWorker(self._overrides, analysis=self._analysis, wake=wake)

    def parser_state(self, name: str) -> ParserState:
        """What the parser of source ``name`` carries to its next batch (for a worker to continue from)."""
        return parser_state(self._parser(self.store.source_id(name)))

    def resume_parser(self, name: str, state: ParserState) -> None:
        """Continue source ``name``'s parser from ``state`` (where a worker left off)."""
        resume_parser(self._parser(self.store.source_id(name)), state)

    def _parser(self, source: int) -> LineParserLike:
        parser = self._parsers.get(source)
        if parser is None:
            parser = self._parsers[source] = self._factory(self._overrides)
        return parser

    def ingest_parsed(self, batch: LineBatch, parsed: LiveParsed) -> IngestResult:
        """Index and fold a batch a worker parsed (``liveparse.ParseWorker``): as ``ingest`` would."""
        store = self.store
        source = store.source_id(batch.source)
        if parsed.columns is None:
            return self._fold(source, store.append_parsed_columns(source, batch, _NO_COLUMNS))
        appended = store.append_shipped(source, batch, parsed.columns)
        if parsed.sums is None:
            # Left to us (the worker was behind): as ``ingest`` does, from a parser that kept no mappings.
            appended = self._side(replace(appended, attrs=[None] * appended.count))
        else:
            appended = replace(appended, shipped_sums=parsed.sums, shipped_signals=parsed.signals)
        return self._fold(source, appended)

    def load_file(
        self,
        path: str,
        *,
        workers: int | None = None,
        parallel_min_bytes: int = PARALLEL_MIN_BYTES,
        piece_bytes: int = PIECE_BYTES,
        progress: Callable[[int, int, int], object] | None = None,
    ) -> IngestResult:
        """Index a whole history file, in worker processes when it is large.

        Records are the same as ingesting the file batch by batch, except that a line without a time
        at the start of a piece cannot borrow the previous piece's last time.

        Args:
            path: the file (its lines are re-read from it later, by offset).
            workers: processes to parse with (default: CPU count, at most 4); 1 reads in-process.
            parallel_min_bytes: files smaller than this are read in-process.
            piece_bytes: size of the byte ranges handed to workers.
            progress: called after each batch with (bytes read, file size, records indexed).

        Returns:
            One result covering every record added.
        """
        st = os.stat(path)
        file_id = f"{st.st_dev}:{st.st_ino}"
        if workers is None:
            workers = min(os.cpu_count() or 1, 4)
        results = _Combined()
        file = self.store.register_file(path, file_id)
        report = progress or (lambda done, size, records: None)
        with _collector_paused():
            if workers < 2 or st.st_size < parallel_min_bytes or file is None:
                for batch in sequential_batches(path, file_id):
                    results.add(self.ingest(batch))
                    if batch.lines:
                        report(batch.offsets[-1] + len(batch.lines[-1]) + 1, st.st_size, len(self.store))
            else:
                source = self.store.source_id(path)
                for shipped in parallel_batches(path, self._overrides, workers, piece_bytes):
                    results.add(self.ingest_shipped(source, file, shipped))
                    if shipped[1]:
                        report(shipped[1][-1] + shipped[2][-1] + 1, st.st_size, len(self.store))
        return results.result(self.store.end_seq)

    def ingest_shipped(self, source: int, file: int, shipped: Shipped) -> IngestResult:
        """Index and fold one batch a worker process parsed (``loader.parse_piece``).

        Args:
            source: The store's id of the source the lines belong to.
            file: The store's index of the registered file holding the lines.
            shipped: Columns, offsets and lengths as the worker returned them.
        """
        columns, offsets, lengths = shipped
        return self._fold(source, self.store.append_columns(source, columns, file, offsets, lengths))

    def _fold(self, source: int, appended: Appended) -> IngestResult:
        store = self.store
        touched = self.traces.add(appended)
        self.stats.add(appended)
        if self._analysis:
            touched |= self.flags.add(appended)
        if store.columns_base != self._compacted_at:
            # The store just dropped evicted rows: drop traces that lived only in them.
            self._compacted_at = store.columns_base
            if self.traces.forget_before(store.first_seq):
                self.flags.forget(lambda tid: self.traces.get(tid) is not None)
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

    def _reparse_many(self, source: int, lines: Sequence[bytes]) -> list[Sequence[ParsedLike]]:
        """``_reparse`` of each of ``lines``, the plain ones in one batch (``LineParser.parse_each``)."""
        template = self._reparser
        if template is None:
            template = self._reparser = self._factory(self._overrides)
        if type(template) is not LineParser:
            return [self._reparse(source, line) for line in lines]
        plain = [i for i, line in enumerate(lines) if b"\n" not in line]
        out: list[Sequence[ParsedLike]] = [() for _ in lines]
        for i, found in zip(plain, template.parse_each([lines[i] for i in plain]), strict=True):
            out[i] = found
        for i, line in enumerate(lines):
            if b"\n" in line:
                out[i] = self._reparse(source, line)
        return out

    def _reparse(self, source: int, line: bytes) -> Sequence[ParsedLike]:
        # A parser in its starting state: re-reading one line must not disturb the source's running state.
        template = self._reparser
        if template is None:
            template = self._reparser = self._factory(self._overrides)
        parser = template.fresh() if type(template) is LineParser else self._factory(self._overrides)
        if b"\n" not in line or not isinstance(parser, LineParser):
            return parser.parse(line)
        return parse_record(parser, line)

    def close(self) -> None:
        """Release the store's files (the spill file is deleted)."""
        self.store.close()

    def __enter__(self) -> LogModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
