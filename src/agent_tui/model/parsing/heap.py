"""Hand large freed buffers back to the system at once (glibc), so indexing a big file peaks lower."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Final

__all__ = ["release_free_memory", "return_large_blocks"]

_M_MMAP_THRESHOLD: Final = -3
"""glibc's ``mallopt`` parameter number for the mmap threshold."""
_THRESHOLD: Final = 128 * 1024
_done = False
_libc: ctypes.CDLL | None = None
_libc_tried = False


def _glibc() -> ctypes.CDLL | None:
    global _libc, _libc_tried  # noqa: PLW0603 - loaded once per process
    if not _libc_tried:
        _libc_tried = True
        if sys.platform.startswith("linux"):
            try:
                _libc = ctypes.CDLL(ctypes.util.find_library("c"))
            except OSError:
                _libc = None
    return _libc


def return_large_blocks() -> bool:
    """Serve allocations of 128 KiB and more from their own mappings, released when freed.

    glibc raises its mmap threshold each time a mapped block is freed, so after the first batches the
    index's growing columns and each batch's line buffers come from the heap, where freed space stays
    resident (about 15 MB of a 1 M-line index). Fixing the threshold keeps them mapped; a growing array
    is then moved by ``mremap`` instead of copied. Does nothing off glibc. Returns whether it applied.
    """
    global _done  # noqa: PLW0603 - one process-wide switch
    if _done:
        return True
    libc = _glibc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    _done = bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD))
    return _done


def release_free_memory() -> bool:
    """Give the free pages inside the heap back to the system (glibc ``malloc_trim``; ~0.1 ms).

    Parsing a piece frees most of what it allocated, but glibc keeps freed heap pages resident: a
    worker grew by about 4 MB over a 1 M-line file, and each counts in the process tree's RSS. Returns
    whether anything was released (always False off glibc).
    """
    trim = getattr(_glibc(), "malloc_trim", None)
    return bool(trim(0)) if trim is not None else False
