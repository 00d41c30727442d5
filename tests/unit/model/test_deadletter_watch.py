"""``DeadLetterWatch``: reads only when the database's files change, retries what it could not read."""

from __future__ import annotations

from pathlib import Path

from agent_tui.log.dlq import DeadLetterQueue
from agent_tui.model.deadletters.reader import DeadLetterDbError, DeadLetterTable
from agent_tui.model.deadletters.watch import DeadLetterWatch


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_unchanged_files_are_not_read_again_until_the_refresh(tmp_path: Path) -> None:
    """The first poll reads; an unchanged file gives None; a put or a resolve gives the new table; after
    refresh_s the table is read again even if the files look the same."""
    db = tmp_path / "dlq.db"
    clock = _Clock()
    with DeadLetterQueue(db) as q:
        first = q.put("bet", "one")
        watch = DeadLetterWatch(db, refresh_s=10.0, clock=clock)
        table = watch.poll()
        assert isinstance(table, DeadLetterTable) and table.unresolved == 1
        assert watch.poll() is None
        q.put("bet", "two")
        table = watch.poll()
        assert isinstance(table, DeadLetterTable) and table.unresolved == 2
        q.resolve(first)
        table = watch.poll()
        assert isinstance(table, DeadLetterTable) and (table.unresolved, table.total) == (1, 2)
        assert watch.poll() is None
        clock.now = 11.0
        assert isinstance(watch.poll(), DeadLetterTable)


def test_a_missing_file_is_reported_at_every_poll_until_it_appears(tmp_path: Path) -> None:
    """A database that is not there yet is an error each poll (never created by the watch), then read
    as soon as a writer creates it."""
    db = tmp_path / "later.db"
    watch = DeadLetterWatch(db, clock=_Clock())
    for _ in range(2):
        result = watch.poll()
        assert isinstance(result, DeadLetterDbError) and "no such file" in str(result)
    assert not db.exists()
    with DeadLetterQueue(db) as q:
        q.put("bet", "late")
    result = watch.poll()
    assert isinstance(result, DeadLetterTable) and [e.error_message for e in result.entries] == ["late"]
