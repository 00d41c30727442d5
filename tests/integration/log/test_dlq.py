"""``DeadLetterQueue``: entries in the current trace, the ERROR record, resolve, async, many processes."""

from __future__ import annotations

import asyncio
import decimal
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from agent_tui.log import JsonFormatter, span, trace
from agent_tui.log.dlq import DeadLetterQueue
from agent_tui.log.redact import REDACTED
from agent_tui.model.deadletters.reader import read_dead_letters
from tests.dlqtools import SEED_SCHEMA, LockHolder, spawn


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.formatter_ = JsonFormatter("agent-7", "casino-agent")
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(orjson.loads(self.formatter_.format_bytes(record)))


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, _Lines]]:
    log = logging.getLogger("test.dlq")
    handler = _Lines()
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log, handler
    log.removeHandler(handler)


def _rows(db: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM dead_letters ORDER BY id")]
    finally:
        conn.close()


def test_put_in_a_span_stores_ids_and_logs_the_error_record_in_the_trace(
    tmp_path: Path, captured: tuple[logging.Logger, _Lines]
) -> None:
    """put() stores the current trace/span ids, the seed's columns and a redacted payload, and logs
    the seed's ERROR record (dlq=true, the id, error with traceback) in the same span."""
    log, lines = captured
    db = tmp_path / "dlq.db"
    with (
        DeadLetterQueue(
            db, agent_id="agent-7", service="casino-agent", logger=log, clock=lambda: 1772582400.5
        ) as q,
        trace("casino.place_bet", logger=log) as trace_id,
        span("casino.api.post", logger=log),
    ):
        try:
            raise TimeoutError("POST /bet timed out after 10.0s")
        except TimeoutError as exc:
            entry = q.put(
                "bet",
                exc,
                payload={"amount_usdc": 12.5, "api_key": "sk-live-123"},
                attempts=5,
                error_code="TIMEOUT",
            )
    [row] = _rows(db)
    failed = [r for r in lines.records if r.get("dlq") is True]
    assert len(failed) == 1
    record = failed[0]
    assert record["level"] == "error" and record["event"] == "bet.failed"
    assert record["dlq_id"] == entry == row["id"]
    assert record["trace_id"] == trace_id == row["trace_id"]
    assert record["span_id"] == row["span_id"] and row["span_id"]
    assert record["error"]["type"] == "TimeoutError"
    assert record["error"]["traceback"][0].startswith("Traceback")
    assert row["operation_type"] == "bet" and row["error_code"] == "TIMEOUT" and row["attempts"] == 5
    assert row["error_message"] == "POST /bet timed out after 10.0s"
    assert row["last_attempt_ts"] == 1772582400.5 and row["resolved"] == 0
    assert row["agent_id"] == "agent-7" and row["service"] == "casino-agent"
    assert orjson.loads(row["payload"]) == {"amount_usdc": 12.5, "api_key": REDACTED}


def test_message_errors_payload_oddities_and_secret_messages(
    tmp_path: Path, captured: tuple[logging.Logger, _Lines]
) -> None:
    """A string error gets error{type,message,traceback}; Decimal/set/object payloads are stored as JSON;
    a bearer token in the message is redacted like the log formatter would."""
    log, lines = captured
    with DeadLetterQueue(tmp_path / "dlq.db", logger=log) as q:
        q.put(
            "escrow",
            "escrow expired",
            payload={"amount": decimal.Decimal("0.1"), "ids": {1}, "obj": object()},
        )
        q.put("auth", "Bearer abcdefghijklmnopqrstuvwxyz0123")
    first, second = _rows(tmp_path / "dlq.db")
    payload = orjson.loads(first["payload"])
    assert payload["amount"] == 0.1 and payload["ids"] == [1] and payload["obj"].startswith("<object")
    assert first["error_code"] == "ERROR" and first["trace_id"] is None
    assert second["error_message"] == REDACTED
    assert lines.records[0]["error"] == {"type": "ERROR", "message": "escrow expired", "traceback": []}


def test_resolve_marks_once_and_the_seed_query_skips_it(tmp_path: Path) -> None:
    """resolve(id) is True once, then False; the seed's query no longer returns the entry."""
    with DeadLetterQueue(tmp_path / "dlq.db") as q:
        a = q.put("bet", "one")
        b = q.put("bet", "two")
        assert q.resolve(a) is True
        assert q.resolve(a) is False
        assert q.resolve(999) is False
        assert [e["id"] for e in q.unresolved()] == [b]
    seed = sqlite3.connect(tmp_path / "dlq.db").execute(
        "SELECT operation_type, error_code, error_message, datetime(last_attempt_ts, 'unixepoch')"
        " FROM dead_letters WHERE resolved=0 ORDER BY last_attempt_ts DESC LIMIT 20"
    )
    assert [r[2] for r in seed.fetchall()] == ["two"]


async def test_aput_keeps_the_trace_and_never_blocks_the_loop(
    tmp_path: Path, captured: tuple[logging.Logger, _Lines]
) -> None:
    """While another process holds the write lock, aput waits in a thread: the loop keeps ticking,
    and once the lock goes the entry lands in the caller's trace."""
    log, lines = captured
    db = tmp_path / "dlq.db"
    q = DeadLetterQueue(db, logger=log)
    holder = LockHolder(db)
    ticks = 0
    try:
        async with trace("order.place", logger=log) as trace_id:
            task = asyncio.create_task(q.aput("order", ValueError("margin"), attempts=2))
            deadline = time.monotonic() + 30
            while ticks < 20:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
                ticks += 1
            assert not task.done()
            await asyncio.to_thread(holder.release)
            entry = await task
        assert await q.aresolve(entry) is True
    finally:
        holder.kill()
        q.close()
    rows = {r["id"]: r for r in _rows(db)}
    assert rows[entry]["trace_id"] == trace_id and rows[entry]["resolved"] == 1
    assert [r["trace_id"] for r in lines.records if r.get("dlq")] == [trace_id]


def test_processes_writing_at_once_land_every_entry_exactly_once(tmp_path: Path) -> None:
    """Four real processes put 40 entries each into one file at the same time: 160 rows, no duplicate,
    each row's trace id equal to the one its ERROR record was logged in."""
    db = tmp_path / "dlq.db"
    procs = [spawn("write", str(db), "40", f"p{i}") for i in range(4)]
    logged: dict[int, str] = {}
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        for line in out.splitlines():
            record = orjson.loads(line)
            if record.get("dlq"):
                logged[record["dlq_id"]] = record["trace_id"]
    rows = _rows(db)
    keys = Counter((orjson.loads(r["payload"])["tag"], orjson.loads(r["payload"])["n"]) for r in rows)
    assert len(rows) == 160 and set(keys.values()) == {1}
    assert {r["id"]: r["trace_id"] for r in rows} == logged
    assert all(orjson.loads(r["payload"])["token"] == REDACTED for r in rows)
    table = read_dead_letters(db)
    assert table.unresolved == table.total == 160


def test_a_seed_table_gains_our_columns(tmp_path: Path) -> None:
    """A queue opened on the seed's bare table adds the missing columns and keeps the old rows."""
    db = tmp_path / "seed.db"
    conn = sqlite3.connect(db)
    conn.execute(SEED_SCHEMA)
    conn.execute("INSERT INTO dead_letters VALUES ('bet', 'TIMEOUT', 'old', 1772582400, 0)")
    conn.commit()
    conn.close()
    with DeadLetterQueue(db) as q, trace("x"):
        new = q.put("bet", "new", attempts=3)
    table = read_dead_letters(db)
    assert [e.error_message for e in table.entries] == ["new", "old"]
    assert table.entries[0].attempts == 3 and table.entries[0].id == new and table.entries[0].trace_id


def test_an_unwritable_queue_still_logs_the_error_record_then_raises(
    tmp_path: Path, captured: tuple[logging.Logger, _Lines]
) -> None:
    """When another process holds the lock past the busy timeout, put() logs the ERROR record (with
    dlq_error and no id) and raises, so the failed operation is never lost silently."""
    log, lines = captured
    db = tmp_path / "dlq.db"
    q = DeadLetterQueue(db, logger=log, busy_timeout_s=0.2)
    holder = LockHolder(db)
    try:
        with pytest.raises(sqlite3.OperationalError), trace("bet", logger=log) as trace_id:
            q.put("bet", TimeoutError("timed out"), attempts=5)
        assert holder.release() == "committed"
    finally:
        holder.kill()
        q.close()
    [record] = [r for r in lines.records if r.get("dlq")]
    assert record["dlq_id"] is None and "locked" in record["dlq_error"]
    assert record["trace_id"] == trace_id and record["error"]["type"] == "TimeoutError"
