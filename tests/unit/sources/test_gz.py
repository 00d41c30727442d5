"""Gzip history: transparent reading, decompressed offsets, last-N lines, corrupt streams."""

from __future__ import annotations

import gzip
from pathlib import Path

from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.sources.file import open_reader
from agent_tui.sources.gz import GzReader, is_gzip
from agent_tui.sources.tail import FileTailer, Item

CONTENT = b"".join(b"line-%04d\n" % i for i in range(5000)) + b"tail"


def read_all(reader: GzReader) -> list[Item]:
    """Poll until done."""
    out: list[Item] = []
    while not reader.done:
        reader.poll(1 << 20, out)
    return out


def test_gz_lines_have_offsets_in_the_decompressed_stream(tmp_path: Path) -> None:
    """Every line and offset matches the decompressed bytes; batches name the .gz path."""
    path = tmp_path / "a.jsonl.1.gz"
    path.write_bytes(gzip.compress(CONTENT))
    out = read_all(GzReader(str(path), "a", read_size=4096))
    batches = [item for item in out if isinstance(item, LineBatch)]
    lines = [line for b in batches for line in b.lines]
    offsets = [o for b in batches for o in b.offsets]
    assert lines == CONTENT.split(b"\n")
    assert all(CONTENT[o : o + len(line)] == line for o, line in zip(offsets, lines, strict=True))
    assert {b.path for b in batches} == {str(path)}


def test_gz_last_n_lines(tmp_path: Path) -> None:
    """lines=N keeps the last N complete lines and the trailing partial one."""
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(CONTENT))
    out = read_all(GzReader(str(path), "a", lines=2, read_size=4096))
    assert [line for item in out if isinstance(item, LineBatch) for line in item.lines] == [
        b"line-4998",
        b"line-4999",
        b"tail",
    ]


def test_truncated_gz_keeps_what_decompressed_and_reports_error(tmp_path: Path) -> None:
    """A cut-off gzip file yields the lines before the cut and an ERROR status, no exception."""
    path = tmp_path / "a.jsonl.2.gz"
    data = gzip.compress(CONTENT)
    path.write_bytes(data[: len(data) // 2])
    out = read_all(GzReader(str(path), "a", read_size=4096))
    lines = [line for item in out if isinstance(item, LineBatch) for line in item.lines]
    assert lines and CONTENT.startswith(b"\n".join(lines))
    last = out[-1]
    assert isinstance(last, SourceStatus) and last.state is SourceState.ERROR and "gzip" in last.reason


def test_gz_detection_needs_suffix_and_magic(tmp_path: Path) -> None:
    """Only a .gz file with the gzip magic is decompressed; a plain file named .gz is tailed as text."""
    real, fake = tmp_path / "a.gz", tmp_path / "b.gz"
    real.write_bytes(gzip.compress(b"x\n"))
    fake.write_bytes(b"plain\n")
    assert is_gzip(str(real)) and not is_gzip(str(fake))
    reader = open_reader(str(fake), "b", follow=False, lines=None, read_size=1024, announce=False)
    assert isinstance(reader, FileTailer)
