"""Reading dead letters read-only (``agent-tui dlq`` and the reader): seed table, bad input, live writers."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import orjson
import pytest

from agent_tui.log.dlq import DeadLetterQueue
from agent_tui.model.deadletters.reader import (
    DeadLetterDbError,
    DeadLetterQuery,
    find_dead_letter_dbs,
    has_dead_letters,
    read_dead_letters,
)
from tests.dlqtools import SEED_SCHEMA, LockHolder, spawn
from tests.integration.cli.helpers import run


def _seed_db(path: Path, rows: list[tuple[object, ...]]) -> Path:
    conn = sqlite3.connect(path)
    conn.execute(SEED_SCHEMA)
    conn.executemany("INSERT INTO dead_letters VALUES (?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return path


def _files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def test_seed_table_is_listed_newest_unresolved_first_with_only_its_columns(tmp_path: Path) -> None:
    """The seed's bare five-column table prints as the seed's query orders it, without agent, attempts
    or trace columns it does not have, and nothing is created next to it."""
    now = time.time()
    db = _seed_db(
        tmp_path / "dlq.db",
        [
            ("bet", "TIMEOUT", "old one", int(now) - 7200, 0),
            ("escrow", "EXPIRED", "done", int(now) - 900, 1),
            ("bet", "RATE_LIMIT", "newest", int(now) - 600, 0),
        ],
    )
    before = _files(tmp_path)
    result = run("dlq", str(db))
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "LAST", "ATTEMPT", "(UTC)", "AGE", "OPERATION", "CODE", "MESSAGE"]
    assert "newest" in lines[1] and "RATE_LIMIT" in lines[1] and " 10m " in lines[1]
    assert "old one" in lines[2] and " 2h " in lines[2]
    assert "done" not in out and "2 unresolved of 3" in out
    assert _files(tmp_path) == before
    everything = run("dlq", str(db), "--all", "--json")
    entries = [orjson.loads(line) for line in everything.stdout.splitlines()]
    assert [e["error_message"] for e in entries] == ["newest", "done", "old one"]
    assert set(entries[0]) == {
        "db",
        "id",
        "operation_type",
        "error_code",
        "error_message",
        "last_attempt_ts",
        "resolved",
    }
    limited = run("dlq", str(db), "--limit", "1").stdout.decode()
    assert (
        "newest" in limited and "old one" not in limited and "(more not shown: --limit N, 0 = all)" in limited
    )
    recent = run("dlq", str(db), "--since", "-1h", "--json")
    assert [orjson.loads(line)["error_message"] for line in recent.stdout.splitlines()] == ["newest"]
    older = run("dlq", str(db), "--until", "-1h", "--json")
    assert [orjson.loads(line)["error_message"] for line in older.stdout.splitlines()] == ["old one"]
    bad = run("dlq", str(db), "--since", "yesterday-ish")
    assert bad.returncode == 2 and "cannot read 'yesterday-ish' as a time" in bad.stderr.decode()


def test_our_table_shows_agent_attempts_age_and_trace(tmp_path: Path) -> None:
    """Entries written by real processes through the library show agent, attempts and trace id; --json
    carries the parsed, redacted payload."""
    db = tmp_path / "dlq.db"
    proc = spawn("write", str(db), "3", "w1")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    traces = [orjson.loads(line)["trace_id"] for line in out.splitlines() if b'"dlq":true' in line.encode()]
    table = run("dlq", str(db)).stdout.decode().splitlines()
    assert table[0].split()[5:] == ["AGENT", "OPERATION", "CODE", "ATTEMPTS", "TRACE", "MESSAGE"]
    assert traces[-1] in table[1] and "agent-w1" in table[1] and "job w1-2 timed out" in table[1]
    entries = [orjson.loads(line) for line in run("dlq", str(db), "--json").stdout.splitlines()]
    assert entries[0]["payload"] == {"tag": "w1", "n": 2, "token": "[REDACTED]"}
    assert entries[0]["attempts"] == 3 and entries[0]["trace_id"] == traces[-1]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_bytes(b"this is a text file, not a database\n" * 50), "not a SQLite database"),
        (lambda p: p.write_bytes(b""), "no dead_letters table"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE other (x)").connection.commit(),
            "no dead_letters",
        ),
    ],
)
def test_bad_databases_get_a_clear_message_and_exit_2(tmp_path: Path, make: object, message: str) -> None:
    """Missing, not SQLite, empty and table-less files: one clear line on stderr, exit 2, no traceback,
    and a missing file is not created."""
    db = tmp_path / "dlq.db"
    make(db)  # type: ignore[operator]
    existed = db.exists()
    result = run("dlq", str(db))
    err = result.stderr.decode()
    assert result.returncode == 2
    assert message in err and "Traceback" not in err
    assert db.exists() == existed


def test_values_of_unexpected_types_are_marked_not_fatal(tmp_path: Path) -> None:
    """Text timestamps, odd flags, non-numeric attempts and a payload that is not JSON are shown with a
    marker; ISO-text times still order and age correctly."""
    db = tmp_path / "odd.db"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE dead_letters (id, operation_type, error_code, error_message,"
        " last_attempt_ts, resolved, attempts, payload)"
    )
    rows = [
        (1, "bet", 42, "soon", "soon", "maybe", "many", "{not json"),
        (2, "bet", "T", "iso", "2026-03-04T00:00:00Z", "0", "3", '{"a": 1}'),
        (3, b"blob", "T", "num", str(time.time() - 5), None, 2.0, None),
    ]
    conn.executemany("INSERT INTO dead_letters VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    table = read_dead_letters(db)
    by_id = {e.id: e for e in table.entries}
    assert [e.id for e in table.entries] == [3, 2, 1]
    assert (
        by_id[2].last_attempt_ts == 1772582400.0 and by_id[2].attempts == 3 and by_id[2].payload == {"a": 1}
    )
    assert by_id[1].payload == "{not json" and by_id[1].error_code == "42"
    assert {"payload is not JSON", "last_attempt_ts 'soon' is not a time"} <= set(by_id[1].problems)
    assert any("attempts" in p for p in by_id[1].problems) and any("resolved" in p for p in by_id[1].problems)
    assert by_id[3].operation_type == "blob" and "operation_type is a blob" in by_id[3].problems
    result = run("dlq", str(db))
    out = result.stdout.decode()
    assert (
        result.returncode == 0
        and "⚠ 1: payload is not JSON" in out
        and "Traceback" not in result.stderr.decode()
    )


def test_a_writer_mid_transaction_is_neither_blocked_nor_read_half(tmp_path: Path) -> None:
    """In WAL mode a reader during a writer's open transaction sees only committed rows and holds no
    lock: the writer commits right after, and the next read sees its row."""
    db = tmp_path / "dlq.db"
    with DeadLetterQueue(db) as q:
        q.put("bet", "committed")
    holder = LockHolder(db)
    try:
        assert [e.error_message for e in read_dead_letters(db).entries] == ["committed"]
        assert run("dlq", str(db)).returncode == 0
        assert holder.release() == "committed"
    finally:
        holder.kill()
    assert {e.error_message for e in read_dead_letters(db).entries} == {
        "committed",
        "written while a reader looked",
    }


def test_a_locked_rollback_journal_db_reports_locked_and_the_writer_still_commits(tmp_path: Path) -> None:
    """A seed-style (rollback journal) database under an EXCLUSIVE writer: the reader says it is locked
    within its timeout, and the writer then commits (the reader left no lock behind)."""
    db = _seed_db(tmp_path / "seed.db", [("bet", "T", "first", int(time.time()), 0)])
    holder = LockHolder(db, "EXCLUSIVE", seed_table=True)
    try:
        with pytest.raises(DeadLetterDbError, match="locked by a writer"):
            read_dead_letters(db, timeout=0.2)
        result = run("dlq", str(db))
        assert result.returncode == 2 and "locked by a writer" in result.stderr.decode()
        assert holder.release() == "committed"
    finally:
        holder.kill()
    assert read_dead_letters(db).total == 2


def test_a_half_written_db_with_a_hot_journal_is_reported_and_left_alone(tmp_path: Path) -> None:
    """A writer killed mid-transaction leaves a hot journal: the read-only reader says so and neither
    rolls it back nor removes the journal (that is the next writer's job)."""
    db = tmp_path / "hot.db"
    _seed_db(db, [])
    proc = spawn("crash", str(db))
    proc.communicate(timeout=60)
    journal = tmp_path / "hot.db-journal"
    assert journal.exists()
    with pytest.raises(DeadLetterDbError, match="half-written"):
        read_dead_letters(db)
    assert journal.exists()
    assert not has_dead_letters(tmp_path / "missing.db")


def test_find_dbs_next_to_logs(tmp_path: Path) -> None:
    """Only *.db files holding a dead_letters table are found; others are skipped without error."""
    with DeadLetterQueue(tmp_path / "dlq.db") as q:
        q.put("bet", "x")
    _seed_db(tmp_path / "seed.db", [])
    (tmp_path / "junk.db").write_bytes(b"junk" * 100)
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.commit()
    assert [Path(p).name for p in find_dead_letter_dbs(tmp_path)] == ["dlq.db", "seed.db"]
    assert not (tmp_path / "dlq.db-wal").exists()


def _logged_fleet(directory: Path, db: Path) -> list[str]:
    """A real process puts two entries into ``db``, its log lines going to ``directory/agent.jsonl``."""
    directory.mkdir(exist_ok=True)
    proc = spawn("write", str(db), "2", "tr")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    (directory / "agent.jsonl").write_text(out)
    return [orjson.loads(line)["trace_id"] for line in out.splitlines() if '"dlq":true' in line]


def test_trace_lists_its_dead_letters_from_a_found_or_given_db(tmp_path: Path) -> None:
    """`agent-tui trace ID DIR` lists the trace's dead letters from a db found in DIR (and --dlq DB from
    elsewhere), in text and in --json; other traces' entries are not listed."""
    logs = tmp_path / "logs"
    first, second = _logged_fleet(logs, logs / "dlq.db")
    text = run("trace", second, str(logs))
    out = text.stdout.decode()
    assert text.returncode == 0, text.stderr
    assert (
        "Dead letters (1)" in out
        and "job tr-1 timed out" in out
        and "job tr-0" not in out.split("Dead letters")[1]
    )
    doc = orjson.loads(run("trace", "--json", first, str(logs)).stdout)
    assert [e["error_message"] for e in doc["dead_letters"]] == ["job tr-0 timed out"]
    assert doc["dead_letters"][0]["payload"]["token"] == "[REDACTED]"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (logs / "dlq.db").rename(elsewhere / "queue.db")
    assert "Dead letters" not in run("trace", first, str(logs)).stdout.decode()
    given = run("trace", first, str(logs), "--dlq", str(elsewhere / "queue.db"))
    assert "Dead letters (1)" in given.stdout.decode()


def test_trace_not_in_the_logs_still_shows_its_dead_letters_and_bad_dbs_warn(tmp_path: Path) -> None:
    """A trace whose logs are gone exits 1 but prints its dead letters; an unreadable --dlq is one line
    on stderr, not a traceback."""
    logs = tmp_path / "logs"
    first, _second = _logged_fleet(logs, tmp_path / "dlq.db")
    (logs / "agent.jsonl").write_text("")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"junk" * 100)
    result = run("trace", first, str(logs), "--dlq", str(tmp_path / "dlq.db"), "--dlq", str(junk))
    err = result.stderr.decode()
    assert result.returncode == 1
    assert (
        "no records with trace id" in err
        and "junk.db: not a SQLite database" in err
        and "Traceback" not in err
    )
    assert "Dead letters (1)" in result.stdout.decode() and first in result.stdout.decode()


def test_clean_flags_with_text_times_still_order_by_time(tmp_path: Path) -> None:
    """0/1 flags but ISO-text timestamps beside numbers: entries are still ordered by the time they
    mean, not by SQLite's numbers-before-text order, and the counts are right."""
    db = _seed_db(
        tmp_path / "mixed.db",
        [
            ("bet", "T", "iso newest", "2030-01-01T00:00:00Z", 0),
            ("bet", "T", "number middle", 1772582400, 0),
            ("bet", "T", "iso oldest", "2020-01-01T00:00:00Z", 0),
            ("bet", "T", "resolved", 1772582500, 1),
        ],
    )
    table = read_dead_letters(db)
    assert [e.error_message for e in table.entries] == ["iso newest", "number middle", "iso oldest"]
    assert (table.unresolved, table.total) == (3, 4)
    everything = read_dead_letters(db, DeadLetterQuery(include_resolved=True, unresolved_first=True, limit=2))
    assert [e.error_message for e in everything.entries] == ["iso newest", "number middle"]
