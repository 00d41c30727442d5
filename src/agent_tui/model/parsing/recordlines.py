"""Lines to records, the way every reader counts them: query, serve, stats and the TUI agree.

A blank line (whitespace only; a lone ``\\r`` of a CRLF file too) is no record. An OTLP/JSON export line
holds many records. A Docker json-file message over 16 KiB is written as partial lines (``log`` without
its final ``\\n``) that the parser joins into one record on its closing line: the record's lines are the
pieces and the closing line, and a filter judges the joined record. Before parsing, a line may only be
dropped when the filter's prefilter rules it out *and* it cannot be a piece of a joined record.

``RecordJudge`` is the one path from lines to matching records shared by ``agent-tui query`` (through
``agent_tui.model.query.scan``) and ``serve ?filter=``: it counts records, and returns each matching record's
lines once, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from agent_tui.model.parsing.formats.generic import decode_line
from agent_tui.model.parsing.parse import LineParser, Parsed, attrs_of
from agent_tui.model.query.linesubject import LineSubject, RowSubject
from agent_tui.model.query.prefilter import has_escaped_key

if TYPE_CHECKING:
    from agent_tui.model.query import Filter

__all__ = [
    "RecordJudge",
    "candidates",
    "is_blank",
    "is_partial_piece",
    "may_be_piece",
    "needs_attrs",
    "parse_record",
    "pieces_possible",
    "record_attrs",
    "record_spans",
    "record_starts",
    "trailing_pieces",
]

_STREAM_KEY: Final = b'"stream"'
"""Every Docker json-file envelope names ``stream`` (unless the key is escaped: see ``has_escaped_key``)."""


def is_blank(line: bytes) -> bool:
    """Whitespace only: no record."""
    return not line.strip()


def pieces_possible(data: bytes) -> bool:
    """False when no line of ``data`` can be a Docker envelope, so no record spans two lines."""
    if _STREAM_KEY in data:
        return True
    return has_escaped_key(data)


def may_be_piece(line: bytes) -> bool:
    """True when ``line`` may be a Docker json-file envelope (a partial piece or a closing line)."""
    return _STREAM_KEY in line or has_escaped_key(line)


def is_partial_piece(line: bytes) -> bool:
    """True for a Docker partial line: its ``log`` lacks the final newline, the next piece follows."""
    if not may_be_piece(line):
        return False
    try:
        obj = decode_line(line)
    except ValueError:
        return False
    if type(obj) is not dict or "stream" not in obj or "time" not in obj:
        return False
    log = obj.get("log")
    return isinstance(log, str) and not log.endswith("\n")


def trailing_pieces(data: bytes) -> int:
    """Where the partial pieces at the end of ``data`` (whole lines) start; ``len(data)`` when none.

    Cutting there keeps a joined record's lines together in one buffer.
    """
    end = len(data)
    if not pieces_possible(data[-(1 << 20) :]):
        return end
    cut = end
    while cut > 0:
        start = data.rfind(b"\n", 0, cut - 1) + 1
        stop = cut - 1 if data[cut - 1 : cut] == b"\n" else cut
        if not is_partial_piece(data[start:stop]):
            break
        cut = start
    return cut


def candidates(
    lines: Sequence[bytes], may_match: Callable[[bytes], bool] | None, *, pieces: bool = True
) -> list[int]:
    """Indices of the lines worth parsing: not blank, and either may match or may be a piece.

    Args:
        lines: the lines of one batch, in order.
        may_match: the filter's prefilter (None: every non-blank line).
        pieces: False when the caller knows no line can be a Docker piece (``pieces_possible``).
    """
    if may_match is None:
        return [i for i, line in enumerate(lines) if line.strip()]
    if not pieces:
        return [i for i, line in enumerate(lines) if may_match(line) and line.strip()]
    return [i for i, line in enumerate(lines) if (may_match(line) or may_be_piece(line)) and line.strip()]


def record_starts(lines: Sequence[bytes], indices: Sequence[int]) -> list[int]:
    """For each record (by the index of the line it came from), the index of its first line.

    Usually its own line; for a record joined from Docker pieces, the first unclaimed non-blank line
    before it that produced no record.
    """
    starts: list[int] = []
    previous = -1
    pending = -1
    for index in indices:
        if index == previous:
            starts.append(index)
            continue
        if pending < 0:
            pending = next((j for j in range(previous + 1, index) if lines[j].strip()), -1)
        if pending >= 0 and may_be_piece(lines[index]):
            starts.append(pending)
            pending = -1
        else:
            starts.append(index)
        previous = index
    return starts


def record_spans(
    lines: Sequence[bytes], offsets: Sequence[int], indices: Sequence[int]
) -> tuple[list[int], list[int]]:
    """Offset and length of each record's bytes: its line, or its pieces through its closing line.

    The bytes of a joined record hold its lines separated by newlines (and any blank or other lines
    between them), which ``parse_record`` and ``record_attrs`` turn back into the record.
    """
    starts = record_starts(lines, indices)
    record_offsets = [offsets[start] for start in starts]
    lengths = [offsets[i] + len(lines[i]) - o for i, o in zip(indices, record_offsets, strict=True)]
    return record_offsets, lengths


def parse_record(parser: LineParser, raw: bytes) -> list[Parsed]:
    """The records parsed from one record's bytes (``record_spans``): those of its last line."""
    if b"\n" not in raw:
        return parser.parse(raw)
    lines = raw.split(b"\n")
    last = len(lines) - 1
    return [parsed for index, parsed in parser.parse_batch(lines) if index == last]


def record_attrs(raw: bytes, part: int = 0) -> dict[str, Any]:
    """The attribute mapping of record ``part`` of a record's bytes (``parse.attrs_of`` for one line)."""
    if b"\n" not in raw:
        return attrs_of(raw, part)
    found = parse_record(LineParser(keep_attrs=True), raw)
    attrs = found[part].attrs if 0 <= part < len(found) else None
    return attrs if attrs is not None else {}


def needs_attrs(filt: Filter | None) -> bool:
    """Whether judging needs each record's attribute mapping from the parser (a joined record has no
    single line to decode it from); without it the parser may take its faster projected path."""
    return filt is not None and (filt.needs_attrs or filt.trace_scoped)


class RecordJudge:
    """Parses the lines of one source in order and keeps the records a filter and time bounds accept.

    Args:
        filt: the compiled filter (None keeps every record); not trace-scoped.
        since: keep records at or after this epoch time.
        until: keep records at or before this epoch time.
        parser: the source's parser (one per source: it joins Docker pieces across calls).
    """

    def __init__(
        self,
        filt: Filter | None,
        since: float | None = None,
        until: float | None = None,
        parser: LineParser | None = None,
    ) -> None:
        self.filter = filt
        self.since = since
        self.until = until
        self.parser = parser if parser is not None else LineParser(keep_attrs=needs_attrs(filt))
        # A filter that reads only the record is judged on the parser's row, no Record built.
        self._on_rows = filt is not None and filt.record_only

    def judge(self, lines: Sequence[bytes], *, pieces: bool = True) -> tuple[int, list[int]]:
        """``(matching records, indices of their lines)``: each line once, in order, pieces included.

        ``pieces``: False when the caller knows no line can be a Docker piece (``pieces_possible``), so
        every record starts on its own line.
        """
        filt, since, until = self.filter, self.since, self.until
        rows = self.parser.parse_rows(lines)
        indices = [row[0] for row in rows]
        starts = record_starts(lines, indices) if pieces else indices
        count = 0
        keep: list[int] = []
        last = -1
        on_rows = self._on_rows
        matches = filt.matches if filt is not None else None
        for row, start in zip(rows, starts, strict=True):
            index = row[0]
            if since is not None and row[1] < since:
                continue
            if until is not None and row[1] > until:
                continue
            if on_rows:
                if not matches(RowSubject(row)):  # type: ignore[misc]
                    continue
            elif filt is not None:
                parsed = Parsed(*row[1:])
                raw = lines[index]
                if start != index:
                    raw = _joined(lines, start, index)
                    if parsed.attrs is None:
                        # No single line decodes to a joined record's attributes.
                        parsed.attrs = record_attrs(raw)
                if not filt.matches(LineSubject(parsed, raw)):
                    continue
            count += 1
            if index > last:
                if start == index:
                    keep.append(index)
                else:
                    first = max(start, last + 1)
                    keep.extend(j for j in range(first, index + 1) if j == index or lines[j].strip())
                last = index
        return count, keep


def _joined(lines: Sequence[bytes], start: int, end: int) -> bytes:
    """The bytes of a record joined from pieces: its non-blank lines ``start..end``, newline-separated."""
    return b"\n".join(line for line in lines[start : end + 1] if line.strip())
