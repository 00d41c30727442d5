"""Change wake-ups through Linux inotify (via ctypes), so followed lines arrive in milliseconds.

Only a hint: the sources still poll every ``poll_interval`` (writes to a deleted or renamed-away file
raise no event in its old directory), but an event cuts the wait short. Where inotify is missing
(another OS, watch limit reached) :func:`open_watcher` returns ``None`` and polling alone remains.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys

__all__ = ["DirWatcher", "open_watcher"]

_IN_MODIFY = 0x2
_IN_ATTRIB = 0x4
_IN_CLOSE_WRITE = 0x8
_IN_MOVED_FROM = 0x40
_IN_MOVED_TO = 0x80
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_ONLYDIR = 0x01000000
_MASK = (
    _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
) | _IN_ONLYDIR


class DirWatcher:
    """One inotify descriptor watching directories for any change to the files in them."""

    def __init__(self, fd: int, libc: ctypes.CDLL) -> None:
        """Wrap an inotify descriptor; use :func:`open_watcher` to make one."""
        self.fd = fd
        self._libc = libc
        self.watched: set[str] = set()

    def add(self, directory: str) -> bool:
        """Watch ``directory`` (idempotent); False when the kernel refuses (gone, watch limit)."""
        if directory in self.watched:
            return True
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(directory), _MASK)
        if wd < 0:
            return False
        self.watched.add(directory)
        return True

    def drain(self) -> None:
        """Discard the pending events: the sources only need to know that something changed."""
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while os.read(self.fd, 1 << 16):
                pass

    def close(self) -> None:
        """Release the inotify descriptor and all its watches."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def open_watcher() -> DirWatcher | None:
    """A non-blocking inotify watcher, or ``None`` where inotify is unavailable."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, AttributeError):
        return None
    if fd < 0:
        return None
    return DirWatcher(fd, libc)
