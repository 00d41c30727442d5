"""RotatedFiles across a rotation in progress: a name renamed between the listing and its ``stat``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from agent_tui.sources.base import LineBatch
from agent_tui.sources.rotated import ROTATED_GRACE_S, RotatedFiles, siblings_of
from agent_tui.sources.tail import Item


class RacingSiblings:
    """Lists the siblings, then runs the queued writer actions before the caller looks at any of them."""

    def __init__(self) -> None:
        self.after_listing: list[Callable[[], None]] = []

    def __call__(self, path: str) -> list[tuple[str, bool]]:
        listed = siblings_of(path)
        actions, self.after_listing = self.after_listing, []
        for action in actions:
            action()
        return listed


def read_all(rotated: RotatedFiles) -> list[bytes]:
    """Every line the rotated files give in one poll."""
    out: list[Item] = []
    rotated.poll("x", 1 << 24, out)
    return [line for item in out if isinstance(item, LineBatch) for line in item.lines]


def test_a_let_go_file_missed_by_one_scan_mid_rename_still_gets_its_late_append_read(tmp_path: Path) -> None:
    """A closed rotated file whose name vanished mid-rename during a scan is still known at its new
    name: a late append to it is read (before: its entry was forgotten and it was taken for a copy)."""
    path = str(tmp_path / "x.jsonl")
    now = [1000.0]
    racing = RacingSiblings()
    rotated = RotatedFiles(path, lambda: now[0], 1 << 16, siblings=racing)
    Path(path).write_bytes(b'{"i":0}\n{"i":1}\n')
    os.rename(path, path + ".1")
    Path(path).touch()
    live = os.stat(path)
    assert rotated.scan((live.st_dev, live.st_ino)) == 1
    got = read_all(rotated)
    now[0] += ROTATED_GRACE_S + 1
    got += read_all(rotated)  # quiet: let go
    assert not rotated.files
    racing.after_listing.append(lambda: os.rename(path + ".1", path + ".2"))  # .1 → .2, then a pause
    rotated.scan((live.st_dev, live.st_ino))
    with open(path + ".2", "ab") as late:  # a writer that had not noticed the rotation
        late.write(b'{"i":2}\n')
    rotated.scan((live.st_dev, live.st_ino))
    got += read_all(rotated)
    assert got == [b'{"i":0}', b'{"i":1}', b'{"i":2}']
