"""The serve reader's identity bookkeeping across rotation races, driven scan by scan over real files.

A writer process renames files between the reader's directory listing and its ``stat`` of each name; here
a :class:`RacingDir` performs such renames at exactly that point, so each race happens every time.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from agent_tui.serve.files import ServedDir
from agent_tui.serve.reader import SourceReader
from agent_tui.sources.rotated import MAX_ROTATED_OPEN, ROTATED_GRACE_S

NAME = "x.jsonl"


class RacingDir(ServedDir):
    """A served directory whose next listing is followed at once by the queued writer actions."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.after_listing: list[Callable[[], None]] = []

    def chain(self, source: str) -> list[Path]:
        listed = super().chain(source)
        actions, self.after_listing = self.after_listing, []
        for action in actions:
            action()
        return listed


class Clock:
    """A monotonic clock the test moves; ``on_read`` runs a writer action at the reader's next look."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.on_read: list[Callable[[], None]] = []

    def __call__(self) -> float:
        actions, self.on_read = self.on_read, []
        for action in actions:
            action()
        return self.now


class Logs:
    """One source's files as a rotating handler writes them: appends, and renames ``.N`` → ``.N+1``."""

    def __init__(self, root: Path, *, ts_first: bool = False) -> None:
        self.root = root
        self.written = 0
        self.ts_first = ts_first
        (root / NAME).touch()

    def line(self, n: int) -> bytes:
        if self.ts_first:  # as agent_tui.log writes: the first 64 bytes are a millisecond and constants
            return b'{"ts":"2026-12-02T21:00:00.000Z","level":"info","event":"tick","i":%d}\n' % n
        return b'{"i":%d,"ts":"2026-12-02T21:00:00.000Z","level":"info","event":"tick"}\n' % n

    def write(self, count: int, name: str = NAME) -> list[bytes]:
        lines = [self.line(self.written + k) for k in range(count)]
        self.written += count
        with open(self.root / name, "ab") as out:
            out.write(b"".join(lines))
        return [line.rstrip(b"\n") for line in lines]

    def numbers(self) -> list[int]:
        return sorted((int(p.name.rsplit(".", 1)[1]) for p in self.root.glob(NAME + ".*")), reverse=True)

    def rotate(self) -> None:
        for n in self.numbers():
            os.rename(self.root / f"{NAME}.{n}", self.root / f"{NAME}.{n + 1}")
        os.rename(self.root / NAME, self.root / f"{NAME}.1")
        (self.root / NAME).touch()


def drain(reader: SourceReader) -> list[bytes]:
    """Every line the reader has for now (what one client receives before it waits)."""
    got: list[bytes] = []
    while (chunk := reader.read(1 << 20)) is not None:
        got.extend(chunk.lines)
    return got


def once_each(got: list[bytes]) -> dict[bytes, int]:
    """Lines delivered other than exactly once (empty when each arrived once)."""
    return {line: n for line, n in collections.Counter(got).items() if n != 1}


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Logs, RacingDir, Clock, SourceReader]:
    logs = Logs(tmp_path)
    served = RacingDir(tmp_path)
    clock = Clock()
    reader = SourceReader(served, NAME, clock=clock)
    reader.start_at(None)
    return logs, served, clock, reader


@pytest.mark.parametrize("first_seen", ["empty", "written"])
def test_a_let_go_file_missed_by_one_scan_mid_rename_is_neither_read_again_nor_loses_late_lines(
    setup: tuple[Logs, RacingDir, Clock, SourceReader], first_seen: str
) -> None:
    """A rotated file closed after the grace period, then renamed between a listing and its stat, is
    recognised at its new name: its lines are not read a second time and a late append is read once."""
    logs, served, clock, reader = setup
    expected: list[bytes] = []
    if first_seen == "written":
        expected += logs.write(2)
    got = drain(reader)  # opens the live file (empty, or with two lines)
    expected += logs.write(3)
    got += drain(reader)
    logs.rotate()  # the file read so far is x.jsonl.1 now
    expected += logs.write(1)
    got += drain(reader)
    clock.now += ROTATED_GRACE_S + 1
    got += drain(reader)  # x.jsonl.1 is quiet: let go
    assert len(reader.files) == 1
    logs.rotate()
    served.after_listing.append(logs.rotate)  # listed as .2 and .1, then renamed to .3 and .2
    expected += logs.write(1)
    got += drain(reader)
    expected += logs.write(1, f"{NAME}.3")  # a writer that had not noticed the rotations appends late
    logs.rotate()
    expected += logs.write(1)
    got += drain(reader)
    clock.now += ROTATED_GRACE_S + 1
    got += drain(reader)
    assert once_each(got) == {}
    assert sorted(got) == sorted(expected)


def test_a_file_whose_first_64_bytes_match_another_is_not_taken_for_a_copy(tmp_path: Path) -> None:
    """Two files whose first records fall in the same millisecond (same 64-byte head crc) are both read
    when the second was rotated away before the reader looked."""
    logs = Logs(tmp_path, ts_first=True)
    reader = SourceReader(RacingDir(tmp_path), NAME, clock=Clock())
    reader.start_at(None)
    expected = logs.write(2)
    got = drain(reader)
    logs.rotate()
    expected += logs.write(2)
    logs.rotate()  # the second file is x.jsonl.1 before the reader ever saw it live
    expected += logs.write(1)
    got += drain(reader)
    assert sorted(got) == sorted(expected)


def test_a_line_appended_while_a_rotated_file_is_let_go_is_read_as_one_line(
    setup: tuple[Logs, RacingDir, Clock, SourceReader],
) -> None:
    """A late append landing between the reader's end-of-file read and its check of a quiet rotated file
    is read as a line of its own (before: glued with its newline into one wire record)."""
    logs, _served, clock, reader = setup
    expected = logs.write(2)
    got = drain(reader)
    logs.rotate()
    got += drain(reader)
    clock.now += ROTATED_GRACE_S + 1
    late: list[bytes] = []
    clock.on_read.append(lambda: late.extend(logs.write(1, f"{NAME}.1")))
    got += drain(reader)
    assert late
    assert got == expected + late


def test_a_write_in_progress_in_a_file_let_go_early_arrives_whole_once(
    setup: tuple[Logs, RacingDir, Clock, SourceReader],
) -> None:
    """When more than MAX_ROTATED_OPEN rotated files are open, one whose last line is still being
    written is not let go with that half line: the completed line arrives once, whole."""
    logs, _served, _clock, reader = setup
    expected = logs.write(1)
    got = drain(reader)
    whole = logs.line(10_000)
    with open(tmp := logs.root / NAME, "ab") as out:
        out.write(whole[:20])
    for _ in range(MAX_ROTATED_OPEN + 2):
        logs.rotate()
        expected += logs.write(1)
        got += drain(reader)
    assert len(reader.files) <= MAX_ROTATED_OPEN + 2
    first = sorted(logs.root.glob(NAME + ".*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))[-1]
    assert first.read_bytes().endswith(whole[:20]) and not tmp.samefile(first)
    with open(first, "ab") as out:
        out.write(whole[20:])
    logs.rotate()
    got += drain(reader)
    assert sorted(got) == sorted([*expected, whole.rstrip(b"\n")])


@pytest.mark.parametrize("rotations", [1, 2])
def test_a_resume_whose_listing_is_overtaken_by_a_rotation_reads_no_file_twice(
    tmp_path: Path, rotations: int
) -> None:
    """A client resuming with a cursor while a writer rotates between the reader's listing and its opens
    gets the rest of each file once: the file renamed out of the listed names is not read from 0 again."""
    logs = Logs(tmp_path)
    first = SourceReader(RacingDir(tmp_path), NAME, clock=Clock())
    first.start_at(None)
    expected = logs.write(3)
    got = drain(first)
    logs.rotate()
    expected += logs.write(2)
    got += drain(first)
    # The client's cursor: the finished file at its end and the live one where it stands.
    cursor = {p.file_id.rpartition(".")[0]: p for p in first.positions()}
    first.close()
    served = RacingDir(tmp_path)
    for _ in range(rotations):
        served.after_listing.append(logs.rotate)
    second = SourceReader(served, NAME, clock=Clock())
    second.start_at(list(cursor.values()))
    expected += logs.write(2)
    got += drain(second)
    assert second.warning == ""
    assert once_each(got) == {}
    assert sorted(got) == sorted(expected)


def test_history_whose_listing_is_overtaken_by_a_rotation_is_read_oldest_first(tmp_path: Path) -> None:
    """A new client reading the history while a writer rotates between the listing and the opens gets
    every line once and in the order written (before: the renamed-away oldest file came after the next)."""
    logs = Logs(tmp_path)
    expected = logs.write(2)
    logs.rotate()
    expected += logs.write(2)
    served = RacingDir(tmp_path)
    served.after_listing.append(logs.rotate)
    reader = SourceReader(served, NAME, clock=Clock())
    reader.start_at(None)
    expected += logs.write(2)
    assert drain(reader) == expected


def test_a_file_missing_from_a_listing_taken_mid_rotation_comes_in_order(
    setup: tuple[Logs, RacingDir, Clock, SourceReader],
) -> None:
    """A sibling scan listing the directory halfway through a writer's renames (``.2`` already ``.3``,
    ``.1`` not yet ``.2``) still delivers each line once and in the order written (before: the file
    renamed ``.1`` → ``.2`` after the listing was missed and came after the newer files)."""
    logs, served, _clock, reader = setup
    expected = logs.write(2)
    got = drain(reader)
    for _ in range(2):
        logs.rotate()
        expected += logs.write(2)
    os.rename(tmp_path_of(logs, 2), tmp_path_of(logs, 3))  # a rotation under way: the oldest moved first

    def finish_rotation() -> None:
        os.rename(tmp_path_of(logs, 1), tmp_path_of(logs, 2))
        os.rename(logs.root / NAME, tmp_path_of(logs, 1))
        (logs.root / NAME).touch()

    served.after_listing.append(finish_rotation)
    got += drain(reader)
    expected += logs.write(2)
    got += drain(reader)
    assert got == expected


def tmp_path_of(logs: Logs, n: int) -> Path:
    """The path of rotated file number ``n``."""
    return logs.root / f"{NAME}.{n}"
