"""``DeadLetterQueue``: the seed's SQLite ``dead_letters`` table, written in the current trace and logged."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import orjson

from agent_tui.log._encode import default, sanitize
from agent_tui.log.context import SPAN_ID, TRACE_ID, bound_fields
from agent_tui.log.redact import Redactor

__all__ = ["COLUMNS", "SEED_COLUMNS", "DeadLetterQueue"]

SEED_COLUMNS: Final = ("operation_type", "error_code", "error_message", "last_attempt_ts", "resolved")
"""The columns the seed's step-1 query names."""

COLUMNS: Final = {
    "id": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "operation_type": "TEXT NOT NULL",
    "error_code": "TEXT",
    "error_message": "TEXT",
    "last_attempt_ts": "REAL NOT NULL",
    "resolved": "INTEGER NOT NULL DEFAULT 0",
    "trace_id": "TEXT",
    "span_id": "TEXT",
    "agent_id": "TEXT",
    "service": "TEXT",
    "attempts": "INTEGER NOT NULL DEFAULT 1",
    "first_attempt_ts": "REAL",
    "payload": "TEXT",
}
"""Our table: the seed's columns plus who, where in which trace, how often, and the redacted payload."""

_INSERTED: Final = tuple(c for c in COLUMNS if c not in ("id", "resolved"))
_INDEX: Final = "CREATE INDEX IF NOT EXISTS dead_letters_open ON dead_letters (resolved, last_attempt_ts)"


class DeadLetterQueue:
    """Operations that permanently failed, in a SQLite file shared by threads and processes.

    ``put`` stores the current trace and span ids with the entry and logs the seed's ERROR record
    (``dlq=true``, ``dlq_id``, ``error{type,message,traceback}``) in the same trace. The database is
    in WAL mode with a busy timeout, so several processes can write at once and readers never block
    them. ``aput``/``aresolve`` run the blocking work in a thread so an event loop never waits on disk.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        agent_id: str | None = None,
        service: str | None = None,
        logger: logging.Logger | str | None = None,
        redactor: Redactor | None = None,
        redact: bool = True,
        busy_timeout_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Open (creating when needed) the queue at ``path``.

        Args:
            path: the SQLite file (its directory is created).
            agent_id: stored with each entry; defaults to a bound ``agent_id`` field.
            service: stored with each entry; defaults to a bound ``service`` field.
            logger: where the ERROR record goes (a logger or its name); default ``agent_tui.dlq``.
            redactor: secret rules for the payload and message (the log formatter's by default).
            redact: False stores payloads as given.
            busy_timeout_s: how long a write waits for another process's transaction.
            clock: Unix time source for the timestamps.
        """
        self.path = Path(path)
        self.agent_id, self.service = agent_id, service
        self._logger = (
            logger if isinstance(logger, logging.Logger) else logging.getLogger(logger or "agent_tui.dlq")
        )
        self._redactor = (redactor or Redactor()) if redact else None
        self._clock = clock
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            self._prepare(busy_timeout_s)
        except BaseException:
            self._db.close()
            raise

    def _prepare(self, busy_timeout_s: float) -> None:
        db = self._db
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        deadline = time.monotonic() + busy_timeout_s
        while True:
            # Switching to WAL needs a moment alone with the file; a busy peer makes it fail at once.
            try:
                db.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        db.execute("PRAGMA synchronous = NORMAL")
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        with self._write():
            db.execute(f"CREATE TABLE IF NOT EXISTS dead_letters ({columns})")
            # A table made by the seed's own code lacks our columns: add them rather than refuse it.
            have = {row[1] for row in db.execute("PRAGMA table_info(dead_letters)")}
            for name, kind in COLUMNS.items():
                if name not in have and name != "id":
                    db.execute(f"ALTER TABLE dead_letters ADD COLUMN {name} {_addable(kind)}")
            db.execute(_INDEX)

    def _write(self) -> _Transaction:
        return _Transaction(self._db, self._lock)

    def put(
        self,
        operation_type: str,
        error: BaseException | str,
        *,
        payload: Any = None,
        attempts: int = 1,
        error_code: str | None = None,
        first_attempt_ts: float | None = None,
        event: str | None = None,
    ) -> int:
        """Store a permanently failed operation and log it at ERROR; returns the entry's id.

        Args:
            operation_type: what failed (``bet``, ``order``); the log event is ``{operation_type}.failed``.
            error: the exception (its traceback is logged) or a message.
            payload: the operation's input, stored as JSON with secrets redacted.
            attempts: how many times it was tried.
            error_code: a short code (``TIMEOUT``); defaults to the exception's type name.
            first_attempt_ts: Unix time of the first attempt (defaults to now).
            event: the log event instead of ``{operation_type}.failed``.

        Raises:
            sqlite3.Error: the entry could not be stored; the ERROR record was logged anyway, with
                ``dlq_id: null`` and ``dlq_error`` saying why.
        """
        now = round(self._clock(), 3)
        is_exc = isinstance(error, BaseException)
        code = error_code or (type(error).__name__ if is_exc else "ERROR")
        message = _message(error)
        bound = bound_fields()
        row = {
            "operation_type": operation_type,
            "error_code": code,
            "error_message": self._scrub(message),
            "last_attempt_ts": now,
            "trace_id": TRACE_ID.get(),
            "span_id": SPAN_ID.get(),
            "agent_id": self.agent_id or _text(bound.get("agent_id")),
            "service": self.service or _text(bound.get("service")),
            "attempts": attempts,
            "first_attempt_ts": now if first_attempt_ts is None else first_attempt_ts,
            "payload": None if payload is None else self._payload(payload),
        }
        extra: dict[str, Any] = {"dlq": True, "dlq_id": None, "operation_type": operation_type}
        extra.update(error_code=code, attempts=attempts)
        try:
            extra["dlq_id"] = entry_id = self._insert(row)
        except sqlite3.Error as exc:
            # The queue is unwritable (disk full, locked past the timeout): the ERROR record still goes
            # out, saying so, before the caller hears about it; the failure is never lost silently.
            extra["dlq_error"] = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._log(event or f"{operation_type}.failed", error, message, extra)
        return entry_id

    def _insert(self, row: dict[str, Any]) -> int:
        marks = ", ".join("?" * len(_INSERTED))
        with self._write():
            cursor = self._db.execute(
                f"INSERT INTO dead_letters ({', '.join(_INSERTED)}) VALUES ({marks})",  # noqa: S608 (our constants)
                [row[c] for c in _INSERTED],
            )
        return int(cursor.lastrowid or 0)

    def _log(self, event: str, error: BaseException | str, message: str, extra: dict[str, Any]) -> None:
        if isinstance(error, BaseException):
            self._logger.error(event, exc_info=error, extra=extra)
        else:
            extra["error"] = {"type": extra["error_code"], "message": message, "traceback": []}
            self._logger.error(event, extra=extra)

    def resolve(self, entry_id: int) -> bool:
        """Mark an entry resolved; False when there is no such unresolved entry."""
        with self._write():
            cursor = self._db.execute(
                "UPDATE dead_letters SET resolved = 1 WHERE rowid = ? AND NOT resolved", (entry_id,)
            )
        return cursor.rowcount > 0

    async def aput(self, operation_type: str, error: BaseException | str, **options: Any) -> int:
        """``put`` from async code: the write runs in a thread (the trace context goes with it)."""
        return await asyncio.to_thread(self.put, operation_type, error, **options)

    async def aresolve(self, entry_id: int) -> bool:
        """``resolve`` from async code, in a thread."""
        return await asyncio.to_thread(self.resolve, entry_id)

    def unresolved(self, limit: int = 20) -> list[dict[str, Any]]:
        """The seed's query: newest unresolved entries first, as dicts of every column."""
        with self._lock:
            cursor = self._db.execute(
                "SELECT * FROM dead_letters WHERE resolved = 0"
                " ORDER BY last_attempt_ts DESC, rowid DESC LIMIT ?",
                (limit,),
            )
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> DeadLetterQueue:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _scrub(self, text: str) -> str:
        redactor = self._redactor
        return text if redactor is None or not redactor.value_is_secret(text) else str(redactor.scrub(text))

    def _payload(self, payload: Any) -> str:
        clean = payload if self._redactor is None else self._redactor.scrub(payload)
        try:
            return orjson.dumps(clean, default=default, option=orjson.OPT_NON_STR_KEYS).decode()
        except (TypeError, orjson.JSONEncodeError):
            return orjson.dumps(sanitize(clean), default=default, option=orjson.OPT_NON_STR_KEYS).decode()


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` under the queue's thread lock (rolled back on error)."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db, self._lock = db, lock

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._db.execute("ROLLBACK" if exc is not None else "COMMIT")
        finally:
            self._lock.release()


def _addable(kind: str) -> str:
    """A column type ``ALTER TABLE ADD COLUMN`` accepts (NOT NULL needs a default there)."""
    if "NOT NULL" in kind and "DEFAULT" not in kind:
        return kind.replace(" NOT NULL", "")
    return kind


def _message(error: BaseException | str) -> str:
    if not isinstance(error, BaseException):
        return str(error)
    try:
        return str(error)
    except Exception:
        return f"<unprintable {type(error).__name__}>"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
