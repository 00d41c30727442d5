"""FileTailer driven poll by poll: history bounds, truncation, rewrite, replacement, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.sources.rotated import ROTATED_GRACE_S
from agent_tui.sources.tail import FileTailer, Item, start_of_last_lines


def lines_of(items: list[Item]) -> list[bytes]:
    """Every line in ``items``."""
    return [line for item in items if isinstance(item, LineBatch) for line in item.lines]


def reasons(items: list[Item]) -> list[str]:
    """The reasons of every status in ``items``."""
    return [item.reason for item in items if isinstance(item, SourceStatus)]


def poll(tailer: FileTailer) -> list[Item]:
    """One poll with a large budget."""
    out: list[Item] = []
    tailer.poll(1 << 24, out)
    return out


@pytest.mark.parametrize(
    ("content", "n", "expected"),
    [
        (b"a\nb\nc\n", 2, 2),
        (b"a\nb\nc", 1, 2),
        (b"a\nb\nc\n", 0, 6),
        (b"a\nb\nc", 0, 4),
        (b"a\nb\nc\n", 10, 0),
        (b"", 3, 0),
    ],
)
def test_start_of_last_lines(tmp_path: Path, content: bytes, n: int, expected: int) -> None:
    """The offset keeps exactly the last n complete lines plus any trailing partial line."""
    path = tmp_path / "f"
    path.write_bytes(content)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert start_of_last_lines(fd, len(content), n) == expected
    finally:
        os.close(fd)


def test_start_of_last_lines_across_scan_blocks(tmp_path: Path) -> None:
    """Counting back works when the lines span many 64 KiB scan blocks."""
    path = tmp_path / "f"
    path.write_bytes(b"".join(b"%07d\n" % i for i in range(100_000)))
    fd = os.open(path, os.O_RDONLY)
    try:
        assert start_of_last_lines(fd, 800_000, 30_000) == 70_000 * 8
    finally:
        os.close(fd)


def test_history_batches_carry_identity_and_offsets(tmp_path: Path) -> None:
    """Without follow the file is read in batches of about read_size bytes, then DONE."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"".join(b"line-%03d\n" % i for i in range(100)))
    tailer = FileTailer(str(path), "a", follow=False, read_size=100)
    out: list[Item] = []
    while not tailer.done:
        tailer.poll(1 << 20, out)
    batches = [item for item in out if isinstance(item, LineBatch)]
    st = path.stat()
    assert all(b.file_id == f"{st.st_dev}:{st.st_ino}" and b.path == str(path) for b in batches)
    assert max(sum(len(line) + 1 for line in b.lines) for b in batches) <= 100 + 9
    assert lines_of(out) == [b"line-%03d" % i for i in range(100)]
    assert [o for b in batches for o in b.offsets] == [i * 9 for i in range(100)]
    assert isinstance(out[-1], SourceStatus) and out[-1].state is SourceState.DONE


def test_truncation_to_a_shorter_file_restarts_at_zero(tmp_path: Path) -> None:
    """A file shrunk below the read position is read again from its start."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"one\ntwo\n")
    tailer = FileTailer(str(path), "a", follow=True)
    assert lines_of(poll(tailer)) == [b"one", b"two"]
    path.write_bytes(b"3\n")
    out = poll(tailer)
    assert any("truncated" in r for r in reasons(out))
    assert lines_of(out + poll(tailer)) == [b"3"]
    tailer.close()


def test_rewrite_to_a_longer_file_is_caught_by_the_header(tmp_path: Path) -> None:
    """A file truncated and regrown past the read position is detected by its changed first bytes."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"old\n")
    tailer = FileTailer(str(path), "a", follow=True)
    assert lines_of(poll(tailer)) == [b"old"]
    with path.open("r+b") as fh:
        fh.truncate(0)
        fh.write(b"new-1\nnew-2\n")
    out = poll(tailer)
    assert any("rewritten" in r for r in reasons(out))
    assert lines_of(out) == [b"new-1", b"new-2"]
    tailer.close()


def test_renamed_file_keeps_being_read_by_identity_until_it_is_gone(tmp_path: Path) -> None:
    """Bytes appended to the renamed file come first, late appends after the switch are read, and it is
    let go once unlinked."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"a\n")
    tailer = FileTailer(str(path), "a", follow=True)
    assert lines_of(poll(tailer)) == [b"a"]
    rotated = tmp_path / "a.jsonl.1"
    with path.open("ab", buffering=0) as old:
        os.rename(path, rotated)
        old.write(b"b\nc-par")
        path.write_bytes(b"d\n")
        out = poll(tailer)
        assert lines_of(out) == [b"b", b"d"]
        assert any("rotated" in r for r in reasons(out))
        old.write(b"tial\n")
    assert lines_of(poll(tailer)) == [b"c-partial"]
    ident = {(path.stat().st_dev, path.stat().st_ino)}
    assert tailer.open_idents() == ident | {(rotated.stat().st_dev, rotated.stat().st_ino)}
    rotated.unlink()
    assert lines_of(poll(tailer)) == []
    assert tailer.open_idents() == ident
    tailer.close()
    assert tailer.open_idents() == set()


def test_files_rotated_away_between_polls_are_found_and_copies_skipped(tmp_path: Path) -> None:
    """Two rotations between polls: the file that was live in between is read; a .gz copy is not."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"a\n")
    tailer = FileTailer(str(path), "a", follow=True)
    assert lines_of(poll(tailer)) == [b"a"]
    os.rename(path, tmp_path / "a.jsonl.1")
    path.write_bytes(b"b\n")
    os.rename(tmp_path / "a.jsonl.1", tmp_path / "a.jsonl.2")
    os.rename(path, tmp_path / "a.jsonl.1")
    (tmp_path / "a.jsonl.2.gz").write_bytes(b"not read")
    path.write_bytes(b"c\n")
    assert lines_of(poll(tailer)) == [b"b", b"c"]
    assert lines_of(poll(tailer)) == []
    tailer.close()


def test_quiet_rotated_file_is_let_go_and_a_later_append_to_it_is_still_read_once(tmp_path: Path) -> None:
    """After the grace a drained rotated file is closed; bytes appended to it later are read (only those)
    when the next rotation looks at the siblings again."""
    now = [0.0]
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"a\n")
    tailer = FileTailer(str(path), "a", follow=True, clock=lambda: now[0])
    assert lines_of(poll(tailer)) == [b"a"]
    rotated = tmp_path / "a.jsonl.1"
    os.rename(path, rotated)
    path.write_bytes(b"b\n")
    assert lines_of(poll(tailer)) == [b"b"]
    now[0] = ROTATED_GRACE_S + 1
    assert lines_of(poll(tailer)) == []
    live = {(path.stat().st_dev, path.stat().st_ino)}
    assert tailer.open_idents() == live
    with rotated.open("ab") as late:
        late.write(b"late\n")
    os.rename(rotated, tmp_path / "a.jsonl.2")
    os.rename(path, rotated)
    path.write_bytes(b"c\n")
    assert lines_of(poll(tailer)) == [b"late", b"c"]
    assert lines_of(poll(tailer)) == []
    tailer.close()


def test_unreadable_and_directory_paths_are_errors_not_crashes(tmp_path: Path) -> None:
    """A missing file or a directory gives an ERROR status and ends the tailer when not following."""
    for path in (tmp_path / "missing", tmp_path):
        tailer = FileTailer(str(path), "x", follow=False)
        out = poll(tailer)
        assert tailer.done
        assert [s.state for s in out if isinstance(s, SourceStatus)] == [SourceState.ERROR]


def test_lines_zero_without_follow_reads_nothing(tmp_path: Path) -> None:
    """--lines 0 without --follow is empty, like tail -n 0, even with a trailing partial line."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"a\nb")
    tailer = FileTailer(str(path), "a", follow=False, lines=0)
    assert lines_of(poll(tailer)) == []
    assert tailer.done
