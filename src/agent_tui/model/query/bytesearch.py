"""Whole-buffer substring search at ``memchr`` speed when the needle holds a byte the buffer rarely has.

``bytes.find`` with a needle of several bytes runs at about 1 GB/s on JSON, whose quotes, colons and
lowercase letters keep defeating its skip table, while a one-byte ``find`` is a ``memchr`` about ten
times faster. A needle such as ``"MESSAGE"``, ``resourceLogs`` or ``\\u`` usually holds a byte (an
uppercase letter, a backslash) that few lines contain: ``Finder`` picks the needle's rarest byte in a
sample of the buffer, looks for that byte and checks the needle around each hit. When no byte of the
needle is rare there, or the hits turn out to be many, it uses ``bytes.find``; the answer is always
exactly ``bytes.find``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Final

__all__ = ["Finder"]

_SMALL: Final = 256 << 10
"""Below this many bytes a plain search is cheaper than choosing a probe byte."""
_SAMPLE: Final = 32 << 10
_MISSES_PER_KIB: Final = 1
"""False hits of the probe byte per KiB beyond which ``bytes.find`` is the cheaper search."""


class Finder:
    """``find(data, start)``: ``data.find(needle, start)``, through a byte of the needle rare in ``data``."""

    __slots__ = ("_bytes", "needle")

    def __init__(self, needle: bytes) -> None:
        if not needle:
            raise ValueError("empty needle")
        self.needle = needle
        # One index per distinct byte, so the sample is counted once per byte.
        self._bytes = {needle[i : i + 1]: i for i in range(len(needle))}

    def find(self, data: bytes, start: int = 0) -> int:
        """The first index ``>= start`` where the needle occurs in ``data``, or -1."""
        return self.searcher(data)(start)

    def searcher(self, data: bytes) -> Callable[[int], int]:
        """``search(start)``: ``data.find(needle, start)``, with the probe byte chosen once for ``data``."""
        needle = self.needle
        at = self._probe_at(data) if len(data) >= _SMALL else -1
        if at < 0:
            return partial(data.find, needle)
        probe, find, startswith = needle[at : at + 1], data.find, data.startswith
        misses = 0
        allowed = len(data) * _MISSES_PER_KIB >> 10

        def search(start: int) -> int:
            nonlocal misses
            if misses > allowed:
                return find(needle, start)
            hit = find(probe, start + at)
            while hit >= 0:
                if startswith(needle, hit - at):
                    return hit - at
                misses += 1
                if misses > allowed:
                    # The probe byte is common here after all: plain searches beat many probes.
                    return find(needle, hit - at + 1)
                hit = find(probe, hit + 1)
            return -1

        return search

    def _probe_at(self, data: bytes) -> int:
        """The index of the needle's rarest byte in a sample of ``data``; -1 when none is rare enough."""
        sample = data[:_SAMPLE]
        fewest, chosen = (_SAMPLE >> 10) * _MISSES_PER_KIB, -1
        for byte, index in self._bytes.items():
            seen = sample.count(byte)
            if seen < fewest:
                fewest, chosen = seen, index
        return chosen

    def __repr__(self) -> str:
        return f"Finder({self.needle!r})"
