"""Dead-letter queues read read-only: the seed's bare ``dead_letters`` table or ours, values of any type."""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import orjson

__all__ = [
    "KNOWN_COLUMNS",
    "DeadLetter",
    "DeadLetterDbError",
    "DeadLetterQuery",
    "DeadLetterTable",
    "entries_of_trace",
    "find_dead_letter_dbs",
    "has_dead_letters",
    "read_dead_letters",
]

KNOWN_COLUMNS: Final = (
    "id",
    "operation_type",
    "error_code",
    "error_message",
    "last_attempt_ts",
    "resolved",
    "trace_id",
    "span_id",
    "agent_id",
    "service",
    "attempts",
    "first_attempt_ts",
    "payload",
)
"""Columns we know how to show; a table may hold any subset (the seed's query names five of them)."""

MAX_ROWS: Final = 100_000
"""Newest rows read per database: a queue this deep is a fire, and the reader must stay quick."""
_HEADER: Final = b"SQLite format 3\x00"
_WAL_MODE: Final = 2


class DeadLetterDbError(Exception):
    """A database that cannot be read as a dead-letter queue; the message says which and why."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One entry, its values coerced to their meaning; what could not be read is named in ``problems``."""

    db: str
    id: int | str
    """The table's own ``id`` (the rowid when it has none)."""
    rowid: int
    operation_type: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    last_attempt_ts: float | None = None
    resolved: bool = False
    trace_id: str | None = None
    span_id: str | None = None
    agent_id: str | None = None
    service: str | None = None
    attempts: int | None = None
    first_attempt_ts: float | None = None
    payload: Any = None
    problems: tuple[str, ...] = ()
    """Human notes such as ``payload is not JSON`` or ``last_attempt_ts 'soon' is not a time``."""

    def to_json(self, columns: Iterable[str]) -> dict[str, Any]:
        """The entry as JSON data with only ``columns`` (those its table has), plus ``db`` and problems."""
        out: dict[str, Any] = {"db": self.db}
        for name in columns:
            out[name] = getattr(self, name)
        if self.problems:
            out["problems"] = list(self.problems)
        return out


@dataclass(frozen=True, slots=True)
class DeadLetterTable:
    """What one read of a database found."""

    db: str
    columns: tuple[str, ...]
    """The known columns the table has, in ``KNOWN_COLUMNS`` order (``id`` always: rowid stands in)."""
    entries: tuple[DeadLetter, ...] = ()
    """Newest last attempt first (entries without a readable time last)."""
    unresolved: int = 0
    total: int = 0
    notes: tuple[str, ...] = field(default=())


def has_dead_letters(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a SQLite file holding a ``dead_letters`` table (never raises)."""
    try:
        db = _connect(Path(path), 0.2)
    except DeadLetterDbError:
        return False
    try:
        return bool(_table_columns(db))
    except sqlite3.Error:
        return False
    finally:
        db.close()


def find_dead_letter_dbs(directory: str | os.PathLike[str]) -> list[str]:
    """The ``*.db`` files directly in ``directory`` that hold a ``dead_letters`` table, sorted."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return [str(p) for p in sorted(folder.glob("*.db")) if p.is_file() and has_dead_letters(p)]


@dataclass(frozen=True, slots=True)
class DeadLetterQuery:
    """Which entries to read, in which order."""

    include_resolved: bool = False
    since: float | None = None
    """Only entries whose last attempt is at or after this Unix time."""
    until: float | None = None
    """Only entries whose last attempt is at or before this Unix time."""
    limit: int = MAX_ROWS
    unresolved_first: bool = False
    trace_id: str | None = None
    """Only entries stored in this trace."""


def read_dead_letters(
    path: str | os.PathLike[str], query: DeadLetterQuery | None = None, *, timeout: float = 1.0
) -> DeadLetterTable:
    """Read ``path`` read-only: newest entries first, unresolved only unless the query says otherwise.

    The connection is opened with ``mode=ro`` (it never creates the file and never writes) and closed
    before returning, so no lock outlives the call; a writer mid-transaction at most delays it by
    ``timeout`` seconds. Filtering, ordering and the limit run in SQLite when the timestamps are
    numbers (the normal case); a table with text timestamps is read whole (up to ``MAX_ROWS``) and
    ordered by the times parsed from it.

    Raises:
        DeadLetterDbError: missing file, not SQLite, no ``dead_letters`` table, locked or unreadable.
    """
    where = Path(path)
    ask = query or DeadLetterQuery()
    db = _connect(where, timeout)
    try:
        have = _table_columns(db)
        if not have:
            raise DeadLetterDbError(f"{where}: no dead_letters table (is this a dead-letter queue?)")
        columns = tuple(c for c in KNOWN_COLUMNS if c in have or c == "id")
        picked = [c for c in columns if c in have]
        flags = _Flags.of(db, have)
        # Two counts rather than one sum: with plain 0/1 flags each is answered from the index.
        total = db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
        done = db.execute(f"SELECT count(*) FROM dead_letters WHERE {flags.resolved}").fetchone()[0]  # noqa: S608
        numeric = flags.clean or "last_attempt_ts" not in have or db.execute(_TEXT_TIMES).fetchone() is None
        rows = db.execute(*_select(picked, have, ask, flags, numeric=numeric)).fetchall()
    except sqlite3.Error as exc:
        raise DeadLetterDbError(_explain(where, exc)) from None
    finally:
        db.close()
    entries = [_entry(str(where), row[0], dict(zip(picked, row[1:], strict=True))) for row in rows]
    notes: tuple[str, ...] = ()
    if not numeric:
        entries = _in_python(entries, ask)
        notes = (f"text timestamps: read only the newest {MAX_ROWS} rows",) if len(rows) >= MAX_ROWS else ()
    return DeadLetterTable(str(where), columns, tuple(entries), int(total) - int(done), int(total), notes)


_RESOLVED: Final = "(coalesce(lower(CAST(resolved AS TEXT)), '0') IN ('1', '1.0', 'true', 'yes'))"
"""SQL: the row is resolved (1, '1', 'true', 'yes' in any case); anything else reads as unresolved."""
_TEXT_TIMES: Final = (
    "SELECT 1 FROM dead_letters WHERE typeof(last_attempt_ts) NOT IN ('integer', 'real', 'null') LIMIT 1"
)

_NEWEST: Final = (
    "SELECT last_attempt_ts FROM dead_letters WHERE resolved = ? ORDER BY last_attempt_ts DESC LIMIT 1"
)


@dataclass(frozen=True, slots=True)
class _Flags:
    """SQL for "resolved" and "unresolved": plain comparisons (index-friendly) when every value is 0/1."""

    clean: bool
    resolved: str
    unresolved: str

    @staticmethod
    def of(db: sqlite3.Connection, have: set[str]) -> _Flags:
        """Look only at the ends of the (resolved, last_attempt_ts) order: with our index, a few lookups."""
        if "resolved" not in have:
            return _Flags(True, "0", "1")
        ends = [
            db.execute(f"SELECT resolved FROM dead_letters ORDER BY resolved {way} LIMIT 1").fetchone()  # noqa: S608
            for way in ("ASC", "DESC")
        ]
        clean = all(end is None or (type(end[0]) is int and end[0] in (0, 1)) for end in ends)
        if clean and "last_attempt_ts" in have:
            # SQLite orders numbers before text and blobs, so the newest value of each group tells.
            tops = [db.execute(_NEWEST, (flag,)).fetchone() for flag in (0, 1)]
            clean = not any(top is not None and isinstance(top[0], str | bytes) for top in tops)
        if clean:
            return _Flags(True, "(resolved = 1)", "resolved = 0")
        return _Flags(False, _RESOLVED, f"NOT {_RESOLVED}")


def _select(
    picked: Sequence[str], have: set[str], ask: DeadLetterQuery, flags: _Flags, *, numeric: bool
) -> tuple[str, list[Any]]:
    """The SELECT for ``ask``: filtered, ordered and limited in SQL when the timestamps are numbers."""
    where: list[str] = []
    params: list[Any] = []

    def need(column: str, condition: str, value: Any) -> None:
        # A filter on a column the table lacks matches nothing (like a NULL would).
        where.append(condition if column in have else "0")
        if column in have:
            params.append(value)

    if not ask.include_resolved and "resolved" in have:
        where.append(flags.unresolved)
    if ask.trace_id is not None:
        need("trace_id", "trace_id = ?", ask.trace_id)
    order, limit = ["rowid DESC"], MAX_ROWS
    if numeric:
        limit = max(0, min(ask.limit, MAX_ROWS))
        if ask.since is not None:
            need("last_attempt_ts", "last_attempt_ts >= ?", ask.since)
        if ask.until is not None:
            need("last_attempt_ts", "last_attempt_ts <= ?", ask.until)
        if "last_attempt_ts" in have:
            order.insert(0, "last_attempt_ts DESC")
        if ask.unresolved_first and "resolved" in have:
            order.insert(0, f"{flags.resolved} ASC")
    names = ", ".join(["rowid", *(f'"{c}"' for c in picked)])
    condition = " AND ".join(where) or "1"
    sql = f"SELECT {names} FROM dead_letters WHERE {condition} ORDER BY {', '.join(order)} LIMIT {limit}"  # noqa: S608
    return sql, params


def _in_python(entries: list[DeadLetter], ask: DeadLetterQuery) -> list[DeadLetter]:
    """Filter and order entries whose timestamps had to be parsed from text."""
    if ask.since is not None or ask.until is not None:
        low, high = ask.since or -math.inf, math.inf if ask.until is None else ask.until
        entries = [e for e in entries if e.last_attempt_ts is not None and low <= e.last_attempt_ts <= high]
    entries.sort(
        key=lambda e: (
            not (ask.unresolved_first and e.resolved),
            e.last_attempt_ts is not None,
            e.last_attempt_ts or 0.0,
            e.rowid,
        ),
        reverse=True,
    )
    return entries[: ask.limit]


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    """Open read-only; a WAL database no writer has open is read as immutable, so no -wal/-shm appear."""
    try:
        with path.open("rb") as handle:
            header = handle.read(20)
    except FileNotFoundError:
        raise DeadLetterDbError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DeadLetterDbError(f"{path}: is a directory, not a SQLite file") from None
    except OSError as exc:
        raise DeadLetterDbError(f"{path}: cannot open ({exc.strerror or exc})") from None
    if header and not header.startswith(_HEADER):
        raise DeadLetterDbError(f"{path}: not a SQLite database")
    wal = len(header) == 20 and header[18] == _WAL_MODE
    quiet = wal and not Path(f"{path}-wal").exists()
    uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("&immutable=1" if quiet else "")
    try:
        return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise DeadLetterDbError(_explain(path, exc)) from None


def _table_columns(db: sqlite3.Connection) -> set[str]:
    return {str(row[1]) for row in db.execute("PRAGMA table_info(dead_letters)")}


def _explain(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"{path}: locked by a writer mid-transaction; try again"
    if "not a database" in text or "malformed" in text:
        return f"{path}: not a SQLite database (or damaged): {text}"
    if "readonly" in text or "read-only" in text:
        return f"{path}: half-written (a writer's transaction needs recovery by a writer): {text}"
    if "unable to open" in text:
        return f"{path}: cannot open read-only: {text}"
    return f"{path}: cannot read: {text}"


def _entry(db: str, rowid: int, row: dict[str, Any]) -> DeadLetter:
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name in (
        "operation_type",
        "error_code",
        "error_message",
        "trace_id",
        "span_id",
        "agent_id",
        "service",
    ):
        if name in row:
            values[name] = _text(name, row[name], problems)
    for name in ("last_attempt_ts", "first_attempt_ts"):
        if name in row:
            values[name] = _time(name, row[name], problems)
    if "attempts" in row:
        values["attempts"] = _count(row["attempts"], problems)
    if "resolved" in row:
        values["resolved"] = _flag(row["resolved"], problems)
    if "payload" in row:
        values["payload"] = _payload(row["payload"], problems)
    own_id = row.get("id")
    entry_id = own_id if isinstance(own_id, int | str) and own_id != "" else rowid
    return DeadLetter(db=db, id=entry_id, rowid=rowid, problems=tuple(problems), **values)


def _text(name: str, value: Any, problems: list[str]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        problems.append(f"{name} is a blob")
        return value.decode("utf-8", "replace")
    return str(value)


def _time(name: str, value: Any, problems: list[str]) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    problems.append(f"{name} {_short(value)} is not a time")
    return None


def _count(value: Any, problems: list[str]) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        problems.append(f"attempts {_short(value)} is not a number")
        return None


def _flag(value: Any, problems: list[str]) -> bool:
    if value is None or value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false", "yes", "no", ""):
        return value.strip().lower() in ("1", "true", "yes")
    problems.append(f"resolved {_short(value)} is not 0/1 (read as unresolved)")
    return False


def _payload(value: Any, problems: list[str]) -> Any:
    if value is None:
        return None
    if isinstance(value, int | float):
        return value
    try:
        return orjson.loads(value)
    except (orjson.JSONDecodeError, TypeError):
        problems.append("payload is not JSON")
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def entries_of_trace(tables: Sequence[DeadLetterTable], trace_id: str) -> list[DeadLetter]:
    """Every entry (resolved or not) of ``tables`` stored in trace ``trace_id``, newest first."""
    found = [e for table in tables for e in table.entries if e.trace_id == trace_id]
    found.sort(key=lambda e: (e.last_attempt_ts or 0.0, e.rowid), reverse=True)
    return found
