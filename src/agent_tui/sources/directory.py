"""Every log file under a directory: rotated siblings as history (oldest first), live files followed.

Each batch's ``source`` is the path of the *logical* log relative to the directory (``sub/agent.jsonl``),
also for lines read from its rotated siblings (``sub/agent.jsonl.2.gz``), so the UI shows one stream per
agent; ``path`` names the file a line was actually read from. While following, each live log is read by
a :class:`~agent_tui.sources.tail.FileTailer` that also reads its plain rotated siblings by identity
(``agent.jsonl.1`` …, the ones there at start as history, oldest first), keeps reading a file renamed
away (late appends of other writers) until it is gone or quiet, and reads siblings rotated away between
two polls; ``.gz`` siblings that appear while running are copies of lines already read and are ignored.
New logs are picked up by a rescan every ``options.effective_rescan_interval``, with the siblings they
already have. A live file deleted for good (path gone, no new bytes for ``RETIRE_AFTER_S``) is let go so
its descriptor is freed. With ``options.lines`` set, only the live files are read (the last N lines of
each); rotated siblings and archive-only logs are skipped.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from agent_tui.sources.base import SourceState, SourceStatus
from agent_tui.sources.file import open_reader
from agent_tui.sources.options import SourceOptions
from agent_tui.sources.pump import PollingSource, ReaderGroup
from agent_tui.sources.tail import FileTailer, Item, Reader

__all__ = [
    "LOG_SUFFIXES",
    "RETIRE_AFTER_S",
    "DirectorySource",
    "LogFile",
    "SequenceReader",
    "classify",
    "discover",
]

LOG_SUFFIXES = (".jsonl", ".ndjson", ".log", ".json")
RETIRE_AFTER_S = 60.0
"""A followed log whose path is gone and which got no new bytes for this long is let go."""
_ROTATED = re.compile(r"^(?P<base>.+?)(?:\.(?P<num>\d+))?(?P<gz>\.gz)?$")


@dataclass(frozen=True, slots=True)
class LogFile:
    """A file found under the directory, and the logical log it belongs to."""

    path: str
    logical: str
    """Relative path of the live file this one belongs to: ``agent.jsonl`` for ``agent.jsonl.2.gz``."""
    number: int | None
    """Rotation index (``.2`` → 2; larger is older), ``None`` for the live file and unnumbered archives."""
    gz: bool

    @property
    def live(self) -> bool:
        """True for the file writers append to (no rotation number, not compressed)."""
        return self.number is None and not self.gz


def classify(directory: str, path: str) -> LogFile | None:
    """Describe ``path`` (under ``directory``) as a log file, or ``None`` when it is not one we read."""
    rel = os.path.relpath(path, directory).replace(os.sep, "/")
    head, _, name = rel.rpartition("/")
    m = _ROTATED.match(name)
    if m is None:
        return None
    base, num, gz = m.group("base"), m.group("num"), m.group("gz") is not None
    if not base.endswith(LOG_SUFFIXES):
        if not gz:
            return None
        if num is not None:
            base = f"{base}.{num}"
            num = None
    logical = f"{head}/{base}" if head else base
    return LogFile(path, logical, int(num) if num is not None else None, gz)


def discover(directory: str) -> list[LogFile]:
    """Every log file under ``directory`` (recursive, symlinked directories not followed), sorted.

    Hidden directories are skipped: they hold tools' state, such as the S3 shipper's ``.s3-outbox`` of
    rotated files already read here as history, which would otherwise show up twice under odd names.
    """
    found: list[LogFile] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        for filename in filenames:
            log = classify(directory, os.path.join(dirpath, filename))
            if log is not None:
                found.append(log)
    found.sort(key=_history_order)
    return found


def _history_order(log: LogFile) -> tuple[str, int, int]:
    # Within one logical log: highest rotation number first (oldest), unnumbered archives, then the live file.
    if log.live:
        return (log.logical, 1, 0)
    return (log.logical, 0, -(log.number or 0))


class SequenceReader:
    """Reads several files one after another as one logical log (rotated history, then the live file)."""

    def __init__(self, name: str, readers: list[Reader]) -> None:
        """Chain ``readers`` (oldest first); batches keep each reader's own ``path``."""
        self.name = name
        self.readers = readers
        self.done = not readers
        self._index = 0

    @property
    def caught_up(self) -> bool:
        """True once the last reader has caught up."""
        return self.done or (self._index == len(self.readers) - 1 and self.readers[-1].caught_up)

    @property
    def current_path(self) -> str:
        """Path of the file being read now (the live file once the history is done)."""
        return str(getattr(self.readers[min(self._index, len(self.readers) - 1)], "path", ""))

    def open_idents(self) -> set[tuple[int, int]]:
        """Files held open by the current reader."""
        return set() if self.done else self.readers[self._index].open_idents()

    def poll(self, budget: int, out: list[Item]) -> int:
        """Poll the current reader, moving to the next when it is finished."""
        used = 0
        while not self.done and used < budget:
            reader = self.readers[self._index]
            used += reader.poll(budget - used, out)
            if not reader.done:
                break
            self._index += 1
            self.done = self._index >= len(self.readers)
        return used

    def flush(self, out: list[Item]) -> None:
        """Flush the current reader's partial line."""
        if not self.done:
            self.readers[self._index].flush(out)

    def close(self) -> None:
        """Close every reader."""
        for reader in self.readers:
            reader.close()
        self.done = True


class DirectoryGroup(ReaderGroup):
    """The readers of a directory, plus periodic rescans for new live files while following."""

    def __init__(self, directory: str, name: str, options: SourceOptions, clock: Callable[[], float]) -> None:
        """Prepare; the directory is scanned on the first poll (on the worker thread)."""
        super().__init__([], budget=options.read_size)
        self.directory = directory
        self.name = name
        self.options = options
        self._clock = clock
        self._known: set[str] = set()
        self._logicals: set[str] = set()
        """Every logical log met so far (a log met again after it was let go skips its old siblings)."""
        self._next_scan = 0.0
        self._announced: SourceState | None = None
        self._orphans: dict[int, tuple[float, int]] = {}
        """id(reader) → (when it was first seen orphaned and silent, its read position then)."""

    def _initial_scan(self, out: list[Item]) -> None:
        if not os.path.isdir(self.directory):
            out.append(SourceStatus(self.name, SourceState.ERROR, f"{self.directory}: not a directory"))
        logs = discover(self.directory)
        self._known.update(log.path for log in logs)
        by_logical: dict[str, list[LogFile]] = {}
        for log in logs:
            if self.options.lines is None or log.live:
                by_logical.setdefault(log.logical, []).append(log)
        for logical, members in by_logical.items():
            self._logicals.add(logical)
            if self.options.follow and members[-1].live:
                # The live file's tailer reads the plain siblings itself, by identity: names shift
                # under a writer rotating while the history is read.
                readers = [self._reader(m, logical) for m in members if m.number is None and not m.live]
                readers.append(self._tailer(members[-1].path, logical, siblings="read"))
            else:
                readers = [self._reader(m, logical) for m in members]
            self.readers.append(SequenceReader(logical, readers))

    def _reader(self, log: LogFile, logical: str) -> Reader:
        opts = self.options
        follow = opts.follow and log.live
        return open_reader(
            log.path, logical, follow=follow, lines=opts.lines, read_size=opts.read_size, announce=False
        )

    def _tailer(self, path: str, logical: str, *, siblings: Literal["read", "skip"]) -> FileTailer:
        opts = self.options
        return FileTailer(
            path,
            logical,
            follow=True,
            lines=opts.lines,
            read_size=opts.read_size,
            announce=False,
            siblings=siblings,
            clock=self._clock,
        )

    def poll_readers(self, out: list[Item]) -> bool:
        """Rescan when due, poll every file, and report the directory's own state changes."""
        if self._announced is None:
            self._announce(out, SourceState.READING, "")
            self._initial_scan(out)
            self._next_scan = self._clock() + self.options.effective_rescan_interval
        elif self.options.follow and self._clock() >= self._next_scan:
            self._next_scan = self._clock() + self.options.effective_rescan_interval
            self._rescan(out)
        more = super().poll_readers(out)
        if self._announced is SourceState.READING and all(r.caught_up for r in self.readers):
            state = SourceState.FOLLOWING if self.options.follow else SourceState.DONE
            self._announce(out, state, f"{len(self.readers)} logs")
        return more

    def watch_dirs(self) -> set[str]:
        """The directory itself and the directories of the logs being followed."""
        dirs = {os.path.abspath(self.directory)}
        for reader in self.readers:
            if isinstance(reader, SequenceReader) and not reader.done:
                dirs.add(os.path.dirname(os.path.abspath(reader.current_path)))
        return dirs

    def finished(self) -> bool:
        """A followed directory never finishes on its own; otherwise when every file is read."""
        return not self.options.follow and super().finished()

    def _announce(self, out: list[Item], state: SourceState, reason: str) -> None:
        self._announced = state
        out.append(SourceStatus(self.name, state, reason))

    def _retire_orphans(self, out: list[Item]) -> None:
        # A live log deleted for good would pin its descriptor forever: once its path has been gone
        # and the file silent for RETIRE_AFTER_S, stop following it (a new file there is picked up anew).
        now = self._clock()
        for reader in list(self.readers):
            tailer = reader.readers[-1] if isinstance(reader, SequenceReader) else None
            if not isinstance(tailer, FileTailer) or not tailer.orphaned or not reader.caught_up:
                self._orphans.pop(id(reader), None)
                continue
            since, position = self._orphans.setdefault(id(reader), (now, tailer.position))
            if position != tailer.position:
                self._orphans[id(reader)] = (now, tailer.position)
            elif now - since >= RETIRE_AFTER_S:
                reader.flush(out)
                reader.close()
                self.readers.remove(reader)
                self._orphans.pop(id(reader), None)
                self._known.discard(tailer.path)
                reason = f"{reader.name} was removed; stopped following it"
                out.append(SourceStatus(self.name, SourceState.FOLLOWING, reason))

    def _rescan(self, out: list[Item]) -> None:
        self._retire_orphans(out)
        held: set[tuple[int, int]] = set()
        followed: set[str] = set()
        for reader in self.readers:
            held |= reader.open_idents()
            if not reader.done:
                followed.add(reader.name)
        for log in discover(self.directory):
            if log.path in self._known or log.gz or log.logical in followed:
                continue
            live = os.path.join(self.directory, *log.logical.split("/"))
            if not os.path.exists(live):
                continue  # a sibling whose live file is being recreated: looked at again next time
            self._known.add(log.path)
            if log.live and _ident(log.path) in held:
                continue
            # A brand-new log brings the siblings it already rotated away; one met before does not.
            siblings: Literal["read", "skip"] = "skip" if log.logical in self._logicals else "read"
            self._logicals.add(log.logical)
            followed.add(log.logical)
            self.readers.append(
                SequenceReader(log.logical, [self._tailer(live, log.logical, siblings=siblings)])
            )
            out.append(SourceStatus(self.name, SourceState.FOLLOWING, f"new log {log.logical}"))


def _ident(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class DirectorySource(PollingSource):
    """All logs under a directory as one source with per-batch source names (see the module docstring)."""

    def __init__(
        self,
        directory: str,
        options: SourceOptions,
        *,
        name: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare a source over ``directory``; it is scanned on the first poll.

        Args:
            directory: The directory to read.
            options: ``follow``, ``lines``, ``poll_interval``, ``watch``, ``rescan_interval``, ``read_size``.
            name: Display name for the directory's own status changes (defaults to ``directory``).
            clock: Monotonic clock deciding when to rescan.
        """
        display = name if name is not None else directory
        group = DirectoryGroup(directory, display, options, clock)
        super().__init__(display, group, options.poll_interval, watch=options.watch and options.follow)
        self.directory = directory
