"""Line splitting: any chunking of a stream yields the same lines and offsets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent_tui.sources.lines import LineSplitter


def split_in_chunks(data: bytes, cuts: list[int]) -> tuple[list[bytes], list[int]]:
    """Feed ``data`` cut at ``cuts`` and flush; return all lines and offsets."""
    splitter = LineSplitter()
    lines: list[bytes] = []
    offsets: list[int] = []
    pos = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        got_lines, got_offsets = splitter.feed(data[pos:cut], pos)
        lines += got_lines
        offsets += got_offsets
        pos = cut
    last, last_offset = splitter.flush()
    return lines + last, offsets + last_offset


@given(st.binary(max_size=300).map(lambda b: b.replace(b"\x00", b"\n")), st.lists(st.integers(0, 300)))
def test_chunking_never_changes_lines_or_offsets(data: bytes, cuts: list[int]) -> None:
    """Lines and offsets are those of one whole-buffer split, wherever the chunk boundaries fall."""
    lines, offsets = split_in_chunks(data, [c for c in cuts if c <= len(data)])
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    assert lines == expected
    assert all(data[off : off + len(line)] == line for off, line in zip(offsets, lines, strict=True))
    assert offsets == sorted(offsets)


def test_partial_line_is_held_then_completed() -> None:
    """Bytes after the last newline are held and come out whole, at their first byte's offset."""
    splitter = LineSplitter()
    assert splitter.feed(b"a\nbb", 10) == ([b"a"], [10])
    assert splitter.feed(b"b", 14) == ([], [])
    assert splitter.feed(b"b\n", 15) == ([b"bbbb"], [12])
    assert splitter.flush() == ([], [])


def test_runaway_line_is_emitted_in_pieces() -> None:
    """A line longer than the limit is emitted once it reaches the limit, so memory stays bounded."""
    splitter = LineSplitter(max_line=8)
    assert splitter.feed(b"0123", 0) == ([], [])
    assert splitter.feed(b"45678", 4) == ([b"012345678"], [0])
    assert splitter.feed(b"9\n", 9) == ([b"9"], [9])
