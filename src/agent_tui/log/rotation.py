"""``RotatingJsonlHandler``: ``{dir}/{agent_id}.jsonl`` rotated by size and/or day, gzip in the background."""

from __future__ import annotations

import contextlib
import gzip
import logging
import mmap
import os
import queue
import shutil
import threading
import time
from collections.abc import Iterator
from typing import Final, Literal

from agent_tui.log.handlers import JsonlFileHandler

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["RotatingJsonlHandler", "rotated_siblings"]

_DAY: Final = 86400.0
_GENERATION_BYTES: Final = 8


def rotated_siblings(path: str) -> list[str]:
    """Existing history files of ``path`` (``.1``, ``.1.gz``, ``.2`` …), oldest first."""
    found: list[tuple[int, str]] = []
    directory, base = os.path.split(path)
    try:
        names = os.listdir(directory or ".")
    except FileNotFoundError:
        return []
    for name in names:
        if not name.startswith(base + "."):
            continue
        suffix = name[len(base) + 1 :].removesuffix(".gz")
        if suffix.isdigit():
            found.append((int(suffix), os.path.join(directory, name)))
    return [p for _, p in sorted(found, reverse=True)]


def _index(base: str, name: str) -> tuple[int, str]:
    suffix = os.path.basename(name)[len(os.path.basename(base)) + 1 :]
    gz = ".gz" if suffix.endswith(".gz") else ""
    return int(suffix.removesuffix(".gz")), gz


class RotatingJsonlHandler(JsonlFileHandler):
    """A :class:`JsonlFileHandler` that rotates like ``RotatingFileHandler``: ``x.jsonl`` → ``x.jsonl.1`` ….

    Safe with several processes appending to one file: writes are single ``O_APPEND`` writes; rotation
    happens under an ``flock`` on ``x.jsonl.lock``. The lock file also holds a rotation generation
    (8 bytes, shared through ``mmap``) that a rotating process bumps before it renames the file. Every
    write first compares it with the generation its descriptor was opened under (one memory read, no
    system call) and, when it moved, re-checks under the lock that its descriptor is still the file at
    the path (``fstat`` against ``stat``) and reopens if not. So a write lands in a renamed file only if
    it was already past that check when the rename happened (microseconds), and readers that keep
    reading rotated files by identity get it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        formatter: logging.Formatter | None = None,
        *,
        max_bytes: int = 50 * 1024 * 1024,
        backup_count: int = 10,
        when: Literal["daily"] | None = None,
        compress: bool = False,
        compress_delay: float = 2.0,
        level: int = 0,
    ) -> None:
        """Open ``path`` for appending.

        Args:
            path: the live file; rotated files get ``.1`` … ``.{backup_count}`` (plus ``.gz``) suffixes.
            formatter: defaults to a :class:`~agent_tui.log.formatter.JsonFormatter`.
            max_bytes: rotate when the file reaches this size; 0 disables size rotation.
            backup_count: how many rotated files to keep.
            when: ``"daily"`` also rotates at each UTC midnight.
            compress: gzip rotated files in a background thread.
            compress_delay: seconds a rotated file must sit unmodified before it is compressed, so a
                process that has not yet noticed the rotation (it checks at least once a second)
                can finish appending to it.
            level: handler level.
        """
        self.max_bytes = max_bytes
        self.backup_count = max(1, backup_count)
        self.when = when
        self.compress = compress
        self.compress_delay = compress_delay
        self._next_check = 0.0
        self._rotate_lock = threading.Lock()
        self._pending = 0
        self._check_every = max(1, min(max_bytes // 32, 256 * 1024)) if max_bytes else 1 << 62
        self._next_rollover = self._midnight_after(time.time()) if when == "daily" else float("inf")
        self._jobs: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._outstanding = 0
        self._idle = threading.Condition()
        self._compressor: threading.Thread | None = None
        self._lock_fd = -1
        self._retired_fd = -1
        self._generation_map: mmap.mmap | None = None
        self._shared = memoryview(bytearray(_GENERATION_BYTES)).cast("Q")
        """The rotation generation shared by every process writing the file (a private zero if unmappable)."""
        self._generation = 0
        """The shared generation when ``_fd`` was opened."""
        super().__init__(path, formatter, level)

    @staticmethod
    def _midnight_after(now: float) -> float:
        return (int(now // _DAY) + 1) * _DAY

    def handle(self, record: logging.LogRecord) -> bool:
        """Filter and write without the handler lock; the hot path, so render/write/account are inlined."""
        if self.filters:
            result = self.filter(record)
            if not result:
                return False
            if isinstance(result, logging.LogRecord):
                record = result
        if record.created >= self._next_check or self._shared[0] != self._generation:
            self.emit(record)
            return True
        try:
            line = self._render(record)
            size = len(line)
            written = os.write(self._fd, line)
            while written < len(line):
                line = line[written:]
                written = os.write(self._fd, line)
            self._pending += size
            if self._pending >= self._check_every:
                self._pending = 0
                self._maybe_rotate(record.created)
        except Exception:
            self.handleError(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        """Check for rotation when another process rotated and at least once a second, then write."""
        rotated = self._shared[0] != self._generation
        if rotated or record.created >= self._next_check:
            if not rotated:
                self._next_check = record.created + 1.0
                self._pending = 0
            try:
                self._maybe_rotate(record.created)
            except Exception:
                self.handleError(record)
        super().emit(record)

    def _open(self) -> int:
        if self._lock_fd < 0:
            self._map_generation()
        # Read before opening: a rotation in between only costs one more reopen, never a stale descriptor.
        self._generation = self._shared[0]
        return super()._open()

    def _map_generation(self) -> None:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self._lock_fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            with self._locked():
                if os.fstat(self._lock_fd).st_size < _GENERATION_BYTES:
                    os.ftruncate(self._lock_fd, _GENERATION_BYTES)
            self._generation_map = mmap.mmap(self._lock_fd, _GENERATION_BYTES)
        except (OSError, ValueError):
            return  # no shared memory here (odd filesystems): the periodic checks still reopen
        self._shared = memoryview(self._generation_map).cast("Q")

    def _written(self, size: int, record: logging.LogRecord) -> None:
        self._pending += size
        if self._pending >= self._check_every:
            self._pending = 0
            self._maybe_rotate(record.created)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._rotate_lock:
            if fcntl is None:
                yield
                return
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _maybe_rotate(self, now: float) -> None:
        with self._locked():
            try:
                on_disk = os.stat(self.path)
            except FileNotFoundError:
                on_disk = None
            mine = os.fstat(self._fd)
            if on_disk is None or (on_disk.st_ino, on_disk.st_dev) != (mine.st_ino, mine.st_dev):
                self._reopen()
                return
            self._generation = self._shared[0]
            due_time = now >= self._next_rollover
            if due_time:
                self._next_rollover = self._midnight_after(now)
            if (self.max_bytes and on_disk.st_size >= self.max_bytes) or (due_time and on_disk.st_size):
                self._rotate()

    def _reopen(self) -> None:
        # Another thread may have read the old descriptor just before the swap and be about to write
        # with it: it stays open until the next reopen so that write lands in the (renamed) file, not
        # in whatever file would reuse a closed descriptor's number.
        old, self._fd = self._fd, self._open()
        if self._retired_fd >= 0:
            os.close(self._retired_fd)
        self._retired_fd = old

    def _rotate(self) -> None:
        base = self.path
        for name in rotated_siblings(base):  # oldest (highest number) first
            index, gz = _index(base, name)
            with contextlib.suppress(FileNotFoundError):
                if index >= self.backup_count:
                    os.unlink(name)
                else:
                    os.rename(name, f"{base}.{index + 1}{gz}")
        # Bumped before the rename: a writer that reads it afterwards waits on the lock, then reopens.
        self._shared[0] = self._shared[0] + 1
        os.rename(base, f"{base}.1")
        self._reopen()
        if self.compress:
            self._start_compressor()
            with self._idle:
                self._outstanding += 1
            self._jobs.put(base)

    def doRollover(self) -> None:
        """Rotate now (under the same locks as automatic rotation)."""
        with self._locked():
            self._rotate()

    def _start_compressor(self) -> None:
        if self._compressor is None or not self._compressor.is_alive():
            self._compressor = threading.Thread(
                target=self._compress_loop, name="agent-tui-log-gzip", daemon=True
            )
            self._compressor.start()

    def _compress_loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._compress_pending(job)
            except Exception as exc:
                logging.getLogger("agent_tui.log").warning("log.gzip_failed", extra={"reason": str(exc)})
            finally:
                with self._idle:
                    self._outstanding -= 1
                    self._idle.notify_all()

    def _compress_pending(self, base: str) -> None:
        while True:
            try:
                idle = time.time() - os.stat(f"{base}.1").st_mtime
            except FileNotFoundError:
                break
            if idle >= self.compress_delay:
                break
            time.sleep(min(0.5, self.compress_delay - idle))
        with self._locked():
            for src in rotated_siblings(base):
                if src.endswith(".gz"):
                    continue
                tmp = f"{src}.gz.tmp"
                with open(src, "rb") as f_in, gzip.open(tmp, "wb", compresslevel=6) as f_out:
                    shutil.copyfileobj(f_in, f_out, 1 << 20)
                os.replace(tmp, f"{src}.gz")
                os.unlink(src)

    def wait_compressed(self, timeout: float = 10.0) -> bool:
        """Block until queued compression jobs are done (for tests and shutdown); True when idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout)

    def close(self) -> None:
        """Finish pending compression, stop the compressor and close the file."""
        compressor = self._compressor
        if compressor is not None and compressor.is_alive():
            self._jobs.put(None)
            compressor.join(timeout=30)
        super().close()
        retired, self._retired_fd = self._retired_fd, -1
        if retired >= 0:
            os.close(retired)
        shared, self._shared = self._shared, memoryview(bytearray(_GENERATION_BYTES)).cast("Q")
        shared.release()
        generation_map, self._generation_map = self._generation_map, None
        if generation_map is not None:
            with contextlib.suppress(BufferError):
                generation_map.close()
        lock_fd, self._lock_fd = self._lock_fd, -1
        if lock_fd >= 0:
            os.close(lock_fd)
