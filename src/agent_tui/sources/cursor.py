"""Resume cursors of the serve wire: where one source's stream stands, exactly.

A *position* names a byte offset in one file of one logical source:
``<source>:<file id>:<offset>`` where ``source`` is the file's path relative to the served directory,
percent-quoted so it never contains ``:`` or ``,``; ``file id`` is ``<dev hex>.<inode hex>.<head crc>``
(the crc covers the first line's first 64 bytes, ``-`` while the file has no complete line) and
``offset`` is the byte just after the last delivered line. A *cursor* is a comma-joined list of positions,
one per source and file it is reading (a source still reading a rotated file next to the live one has
two), e.g. ``agent-1.jsonl:803.1f2a.9c0e51d2:1234,sub%2Fb.log:803.1f30.-:0``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote

__all__ = [
    "CursorError",
    "Position",
    "decode_cursor",
    "decode_cursor_files",
    "decode_position",
    "encode_cursor",
    "quote_source",
]


class CursorError(ValueError):
    """A cursor that does not parse."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where one logical source's stream stands: a byte offset in an identified file."""

    source: str
    file_id: str
    offset: int

    def encode(self) -> str:
        """The wire form ``source:file_id:offset``."""
        return f"{quote_source(self.source)}:{self.file_id}:{self.offset}"


def quote_source(source: str) -> str:
    """Percent-quote a source name so it is safe inside a cursor and an HTTP header."""
    return quote(source, safe="/._-~")


def decode_position(text: str) -> Position:
    """Parse one ``source:file_id:offset`` position.

    Raises:
        CursorError: when the text is not a position.
    """
    parts = text.strip().split(":")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise CursorError(f"not a cursor position: {text[:80]!r}")
    source, file_id, offset_text = parts
    if not offset_text.isdigit() or len(offset_text) > 19:
        raise CursorError(f"bad offset in cursor position: {text[:80]!r}")
    pieces = file_id.split(".")
    if len(pieces) != 3 or not all(pieces):
        raise CursorError(f"bad file id in cursor position: {text[:80]!r}")
    return Position(unquote(source), file_id, int(offset_text))


def encode_cursor(positions: Iterable[Position]) -> str:
    """Join positions into one cursor (the SSE ``id`` and the ``?cursor=`` value)."""
    return ",".join(p.encode() for p in positions)


def decode_cursor_files(text: str) -> dict[str, list[Position]]:
    """Parse a cursor into every position of each source (one per file a source was reading).

    Raises:
        CursorError: when any part is not a position.
    """
    if len(text) > 1 << 20:
        raise CursorError("cursor too long")
    out: dict[str, list[Position]] = {}
    for part in text.split(","):
        if part.strip():
            position = decode_position(part)
            out.setdefault(position.source, []).append(position)
    return out


def decode_cursor(text: str) -> dict[str, Position]:
    """Parse a cursor into positions keyed by source (the last one wins for a repeated source).

    Raises:
        CursorError: when any part is not a position.
    """
    if len(text) > 1 << 20:
        raise CursorError("cursor too long")
    out: dict[str, Position] = {}
    for part in text.split(","):
        if part.strip():
            position = decode_position(part)
            out[position.source] = position
    return out
