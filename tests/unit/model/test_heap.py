"""The glibc heap helpers: freed heap pages go back to the system when asked."""

from __future__ import annotations

import sys

import pytest

from agent_tui.model.parsing.heap import release_free_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_heap_pages_are_released() -> None:
    """After many mid-sized blocks are freed, release_free_memory hands their pages back (True)."""
    blocks = [bytes(2000) + bytes([k % 256]) for k in range(20_000)]  # 40 MB from malloc, not pymalloc
    assert len(blocks) == 20_000
    del blocks
    assert release_free_memory() is True
