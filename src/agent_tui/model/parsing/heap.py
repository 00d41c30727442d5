"""Hand large freed buffers back to the system at once (glibc), so indexing a big file peaks lower."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Final

__all__ = ["return_large_blocks"]

_M_MMAP_THRESHOLD: Final = -3
"""glibc's ``mallopt`` parameter number for the mmap threshold."""
_THRESHOLD: Final = 128 * 1024
_done = False


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
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    _done = bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD))
    return _done
