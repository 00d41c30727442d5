"""Open big files newest first: show the tail at once, index the history in worker processes, then switch."""

from __future__ import annotations

import contextlib
import gc
import os
import stat
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

from agent_tui.model.session import IngestResult, LogModel
from agent_tui.model.views.filtered import FilteredView
from agent_tui.schema import Level
from agent_tui.sources.base import LineBatch
from agent_tui.sources.gz import is_gzip
from agent_tui.sources.options import SourceOptions

if TYPE_CHECKING:
    from agent_tui.model.parsing.history import HistoryLoad
    from agent_tui.model.query.filter import Filter

__all__ = ["TAIL_FIRST_MIN_BYTES", "TAIL_LINES", "HistoryMerge", "tail_first_options"]

TAIL_LINES: Final = 2000
"""Lines of each big file read first, shown while its history is indexed."""
TAIL_FIRST_MIN_BYTES: Final = 8 << 20
"""Smaller files are read from the start: they are indexed before a worker process could start."""


def tail_first_options(
    spec: str,
    options: SourceOptions,
    *,
    min_bytes: int = TAIL_FIRST_MIN_BYTES,
    tail_lines: int = TAIL_LINES,
) -> tuple[SourceOptions, list[str]]:
    """Options to open ``spec`` with, and the files whose history is indexed apart (empty: read it whole).

    Regular, uncompressed local files of at least ``min_bytes`` open tail-first (their last
    ``tail_lines`` lines first); so do directories of that size holding only live logs (rotated or
    compressed siblings would have to be read in order first). Never with ``--lines``.
    """
    if options.lines is not None:
        return options, []
    path = spec[len("file://") :] if spec.startswith("file://") and not os.path.exists(spec) else spec
    try:
        st = os.stat(path)
    except OSError:
        return options, []
    if stat.S_ISDIR(st.st_mode):
        files = _live_only(path)
    elif stat.S_ISREG(st.st_mode) and not is_gzip(path):
        files = [(path, st.st_size)]
    else:
        files = []
    if not files or sum(size for _, size in files) < min_bytes:
        return options, []
    return replace(options, lines=tail_lines), [name for name, size in files if size]


def _live_only(directory: str) -> list[tuple[str, int]]:
    """``(path, size)`` of a directory's logs when every one is a live file, else nothing."""
    from agent_tui.sources.directory import discover  # noqa: PLC0415 -- only for a directory

    logs = discover(directory)
    if not all(log.live for log in logs):
        return []
    out = []
    for log in logs:
        try:
            out.append((log.path, os.stat(log.path).st_size))
        except OSError:
            return []
    return out


@dataclass(slots=True)
class _Load:
    source: int
    file: int
    path: str
    end: int
    file_id: str
    load: HistoryLoad | None = None
    """Built at ``release``: the history loader and its process pools are not for the first screen."""


class HistoryMerge:
    """The full index of tail-first files, built beside the model on screen and handed over once complete.

    The model on screen (the preview) ingests each planned file's tail and everything live; every batch
    it ingests is also kept here, in order. A planned file's first batch fixes where its history ends
    (its first offset); the bytes before are parsed by a :class:`HistoryLoad` and folded into ``full``.
    When every load is folded, the kept batches are replayed into ``full`` (so it holds history, tail and
    live lines in file order, exactly like a whole read), and ``fold`` reports that the app may switch.

    Args:
        full: The model that becomes the app's once complete (same options as the preview).
        plans: Source name → the files of it opened tail-first.
        wake: Called from loading threads when parsed history is ready.
        overrides: ``--field`` overrides for the history parsers.
        workers: Worker processes per load (default: CPU count, at most 4).
        load_factory: Builds each :class:`HistoryLoad` (default: that class; tests hold one back to
            look at the screen).
        windows: The count windows the stats bar shows (see ``counts``).
    """

    def __init__(
        self,
        full: LogModel,
        plans: Mapping[str, Sequence[str]],
        *,
        wake: Callable[[], object],
        overrides: Mapping[str, str] | None = None,
        workers: int | None = None,
        load_factory: Callable[..., HistoryLoad] | None = None,
        windows: tuple[float | None, ...] = (60.0, 300.0, 900.0, None),
    ) -> None:
        self.full = full
        self.shift = 0
        """Preview seq ``s`` is full seq ``s + shift`` (set when the replay starts)."""
        self.error = ""
        self._plans = {name: set(paths) for name, paths in plans.items() if paths}
        self._owner = {path: name for name, paths in self._plans.items() for path in paths}
        self._wake = wake
        self._overrides = overrides
        self._workers = workers
        self._load_factory = load_factory
        self._loads: list[_Load] = []
        self._kept: list[LineBatch] = []
        self._replayed = 0
        self._replaying = False
        self._windows = windows
        self._frozen: dict[float | None, dict[Level, int]] = {}
        self._view: FilteredView | None = None
        self._held = True
        self._collector_off = False

    @property
    def replaying(self) -> bool:
        """True once history is folded and the kept batches are being replayed."""
        return self._replaying

    def track(self, filter: Filter | None, min_level: Level | None) -> None:
        """Keep the rows of ``full`` through ``(filter, min_level)`` up to date batch by batch while it
        folds, so the switch finds them ready instead of filtering a million records in one go.

        Called again whenever the view on screen changes; a change after folding began (the rows would
        have to be filtered again at once, on the keypress) or a filter on flags (which re-runs as flags
        change) leaves the view to ``view_for`` to build at the switch.
        """
        if self._view is not None and self._view.filter is filter and self._view.min_level == min_level:
            return
        if len(self.full.store) or (filter is not None and filter.uses_flags):
            self._view = None
            return
        self._view = FilteredView(self.full, filter, min_level)
        # Read once while empty, so later batches extend its rows instead of leaving a full rebuild.
        len(self._view)

    def view_for(self, filter: Filter | None, min_level: Level | None) -> FilteredView:
        """The rows of ``full`` through ``(filter, min_level)``: the tracked view, or one built now."""
        view = self._view
        self._view = None
        if view is not None and view.filter is filter and view.min_level == min_level:
            return view
        return FilteredView(self.full, filter, min_level)

    def keep(self, batch: LineBatch) -> None:
        """Remember a batch the preview ingested; a planned file's first batch starts its history load."""
        self._kept.append(batch)
        name = self._owner.pop(batch.path, None)
        if name is not None:
            pending = self._plans[name]
            pending.discard(batch.path)
            if not pending:
                del self._plans[name]
            self._start(batch, batch.path)

    def pending(self, name: str) -> set[str]:
        """The planned files of source ``name`` that sent no batch yet."""
        return self._plans.get(name, set())

    def forget(self, name: str) -> None:
        """Source ``name`` caught up or ended and its pending files sent nothing: they have no history."""
        for path in self._plans.pop(name, set()):
            self._owner.pop(path, None)

    def _start(self, batch: LineBatch, path: str) -> None:
        end = batch.offsets[0] if batch.offsets else 0
        if end <= 0:
            return
        store = self.full.store
        file = store.register_file(path, batch.file_id)
        if file is None:
            self.error = f"{path}: cannot re-open it to index its history"
            return
        if not self._loads:
            # A full collection walks every object the growing index holds: a pause of 100-200 ms the
            # user feels as a stuck key. The index is frozen out of collections at the end (``settle``).
            gc.disable()
            self._collector_off = True
        self._loads.append(_Load(store.source_id(batch.source), file, path, end, batch.file_id))
        self._start_next()

    def _built_loads(self) -> list[HistoryLoad]:
        """Every planned load, building those not built yet."""
        factory = self._load_factory
        if factory is None:
            from agent_tui.model.parsing.history import HistoryLoad  # noqa: PLC0415 -- see _Load

            factory = HistoryLoad
        for entry in self._loads:
            if entry.load is None:
                entry.load = factory(
                    entry.path,
                    entry.end,
                    overrides=self._overrides,
                    workers=self._workers,
                    wake=self._wake,
                    file_id=entry.file_id,
                )
        return [entry.load for entry in self._loads if entry.load is not None]

    @property
    def holds_collector(self) -> bool:
        """True while the loads keep garbage collection off (from the first load until settled)."""
        return self._collector_off

    @property
    def held(self) -> bool:
        """True until ``release``: loads are planned but none starts."""
        return self._held

    def release(self) -> None:
        """Start the history loads (call once the tail is on screen).

        Starting the worker processes costs a few hundred milliseconds of CPU; on 2 busy cores that
        came out of the first screen (0.3-1 s later than with no history to load, measured).
        """
        if not self._held:
            return
        self._held = False
        if self._loads:
            from agent_tui.model.parsing.history import prepare_workers  # noqa: PLC0415 -- see _Load

            # The helpers are handed stderr's descriptor; under the running app ``sys.stderr`` is a
            # capture object without one.
            try:
                with contextlib.redirect_stderr(sys.__stderr__):
                    prepare_workers()
            except (OSError, ValueError, AttributeError) as exc:  # the loads then fail and say why
                self.error = f"cannot start history workers: {exc}"
        self._start_next()

    def _start_next(self) -> None:
        """Parse one file at a time: files in parallel would share the same cores and hold more memory."""
        if self._held:
            return
        for load in self._built_loads():
            if not load.started:
                load.start()
                return
            if not load.finished:
                return

    @property
    def has_work(self) -> bool:
        """True when ``fold`` would do something now (without waiting for a worker)."""
        if self._plans:
            return False
        for entry in self._loads:
            if entry.load is None:
                return False
            if not entry.load.drained:
                return entry.load.ready
        return True

    def fold(self, deadline: float) -> bool:
        """Fold ready history (then the kept batches) into ``full`` until ``deadline``; True when complete."""
        self._start_next()
        if self._plans:
            return False
        full = self.full
        for entry in self._loads:
            load = entry.load
            if load is None:
                return False
            while not load.drained:
                shipped = load.take()
                if shipped is None:
                    return False
                self._viewed(full.ingest_shipped(entry.source, entry.file, shipped))
                if time.perf_counter() >= deadline:
                    return False
            if load.error and not self.error:
                self.error = load.error
        if not self._replaying:
            self._replaying = True
            # The replay adds the preview's records to ``full``: the bar must not count them twice.
            self._frozen = {w: dict(full.stats.counts(w)) for w in self._windows}
            self.shift = full.store.end_seq
        kept = self._kept
        while self._replayed < len(kept):
            self._viewed(full.ingest(kept[self._replayed]))
            kept[self._replayed] = _SPENT
            self._replayed += 1
            if time.perf_counter() >= deadline:
                return self._replayed == len(kept)
        return True

    def _viewed(self, result: IngestResult) -> None:
        if self._view is not None:
            self._view.update(result)

    def counts(self, window: float | None) -> Mapping[Level, int]:
        """History's share of the counts for ``window`` (frozen while the kept batches are replayed)."""
        frozen = self._frozen.get(window) if self._replaying else None
        return frozen if frozen is not None else self.full.stats.counts(window)

    def progress(self) -> tuple[float, int]:
        """Fraction of the history bytes parsed (0..1) and records indexed so far."""
        total = sum(entry.end for entry in self._loads)
        done = sum(entry.load.parsed_bytes for entry in self._loads if entry.load is not None)
        fraction = done / total if total else (0.0 if self._plans else 1.0)
        return fraction, self.full.store.end_seq

    def settle(self) -> None:
        """After the switch: keep the index out of later collections (``gc.freeze``), then collect again.

        No collection first: walking a million-record index takes 100-160 ms, a stuck key, to free the
        few hundred kilobytes of cycles the load left behind (measured on 1 M lines); those stay frozen.
        """
        if self._loads:
            gc.freeze()
            gc.enable()
            self._collector_off = False

    def cancel(self) -> None:
        """Stop every load (worker processes terminated) and drop what was kept."""
        for entry in self._loads:
            if entry.load is not None:
                entry.load.cancel()
        self._kept.clear()
        if self._loads:
            gc.enable()
            self._collector_off = False


_SPENT = LineBatch("", [])
"""Stands in for a kept batch once replayed, so its lines can be freed."""
