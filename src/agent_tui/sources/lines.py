"""Split a byte stream into complete lines with their offsets, holding a partial last line back."""

from __future__ import annotations

from itertools import accumulate

__all__ = ["MAX_LINE_BYTES", "LineSplitter"]

MAX_LINE_BYTES = 16 << 20
"""A line longer than this is emitted in pieces so one runaway writer cannot exhaust memory."""

_PLUS_ONE = (1).__add__


class LineSplitter:
    """Turns chunks of a stream into complete lines (without ``\\n``) and the offset where each starts."""

    __slots__ = ("max_line", "pending", "pending_offset")

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self.pending = b""
        """Bytes after the last newline seen, waiting for their ``\\n``."""
        self.pending_offset = 0
        """Stream offset of ``pending[0]``."""

    def feed(self, data: bytes, offset: int) -> tuple[list[bytes], list[int]]:
        """Add ``data`` (which starts at stream ``offset``) and return the lines it completes.

        Args:
            data: The next bytes of the stream.
            offset: Stream offset of ``data[0]``; must follow the pending bytes when any are held.

        Returns:
            The complete lines and the stream offset of each.
        """
        if b"\n" not in data:
            if not self.pending:
                self.pending_offset = offset
            self.pending += data
            if len(self.pending) < self.max_line:
                return [], []
            return self.flush()
        lines = data.split(b"\n")
        tail = lines.pop()
        start = offset
        if self.pending:
            # Joining only the first line avoids copying the whole chunk behind the held bytes.
            lines[0] = self.pending + lines[0]
            start = self.pending_offset
        self.pending = tail
        self.pending_offset = offset + len(data) - len(tail)
        # accumulate/map keep the offset arithmetic in C: start, start+len0+1, ...
        offsets = list(accumulate(map(_PLUS_ONE, map(len, lines)), initial=start))
        offsets.pop()
        return lines, offsets

    def flush(self) -> tuple[list[bytes], list[int]]:
        """Return the held partial line as a final line (when the stream ends or is cut)."""
        if not self.pending:
            return [], []
        line, offset = self.pending, self.pending_offset
        self.pending_offset += len(line)
        self.pending = b""
        return [line], [offset]

    def reset(self, offset: int = 0) -> None:
        """Drop held bytes and restart at ``offset`` (after a truncation)."""
        self.pending = b""
        self.pending_offset = offset
