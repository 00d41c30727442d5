"""Dead-letter queues read read-only: the seed's bare ``dead_letters`` table or ours, values of any type."""

from __future__ import annotations

import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
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
    "DeadLetterTable",
    "DeadLetterWatch",
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


def read_dead_letters(
    path: str | os.PathLike[str],
    *,
    include_resolved: bool = False,
    since: float | None = None,
    timeout: float = 1.0,
) -> DeadLetterTable:
    """Read ``path`` read-only: newest entries first, unresolved only unless ``include_resolved``.

    The connection is opened with ``mode=ro`` (it never creates the file and never writes) and closed
    before returning, so no lock outlives the call; a writer mid-transaction at most delays it by
    ``timeout`` seconds.

    Raises:
        DeadLetterDbError: missing file, not SQLite, no ``dead_letters`` table, locked or unreadable.
    """
    where = Path(path)
    db = _connect(where, timeout)
    try:
        have = _table_columns(db)
        if not have:
            raise DeadLetterDbError(f"{where}: no dead_letters table (is this a dead-letter queue?)")
        columns = tuple(c for c in KNOWN_COLUMNS if c in have or c == "id")
        picked = [c for c in columns if c in have]
        select = ", ".join(["rowid", *(f'"{c}"' for c in picked)])
        rows = db.execute(
            f"SELECT {select} FROM dead_letters ORDER BY rowid DESC LIMIT {MAX_ROWS}"  # noqa: S608 (known names)
        ).fetchall()
    except sqlite3.Error as exc:
        raise DeadLetterDbError(_explain(where, exc)) from None
    finally:
        db.close()
    entries = [_entry(str(where), row[0], dict(zip(picked, row[1:], strict=True))) for row in rows]
    unresolved = sum(1 for e in entries if not e.resolved)
    shown = [
        e
        for e in entries
        if (include_resolved or not e.resolved)
        and (since is None or (e.last_attempt_ts is not None and e.last_attempt_ts >= since))
    ]
    shown.sort(key=lambda e: (e.last_attempt_ts is not None, e.last_attempt_ts or 0.0, e.rowid), reverse=True)
    notes = (f"read only the newest {MAX_ROWS} rows",) if len(rows) >= MAX_ROWS else ()
    return DeadLetterTable(str(where), columns, tuple(shown), unresolved, len(entries), notes)


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


class DeadLetterWatch:
    """Re-reads one database when its files change (stat of the db and its -wal), never keeping it open.

    Each poll that finds a change opens, reads and closes; an unchanged file costs two ``stat`` calls.
    A full re-read every ``refresh_s`` covers a change that left size and mtime equal.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        refresh_s: float = 10.0,
        timeout: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Watch ``path``; reads wait at most ``timeout`` seconds for a writer's lock."""
        self.path = str(path)
        self._refresh_s, self._timeout, self._clock = refresh_s, timeout, clock
        self._seen: object = None
        self._read_at = -math.inf

    def _signature(self) -> tuple[tuple[int, int, int] | None, ...]:
        out: list[tuple[int, int, int] | None] = []
        for name in (self.path, f"{self.path}-wal"):
            try:
                st = os.stat(name)
            except OSError:
                out.append(None)
            else:
                out.append((st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(out)

    def poll(self) -> DeadLetterTable | DeadLetterDbError | None:
        """The table (every entry) or the reason it cannot be read; None when nothing changed."""
        signature = self._signature()
        now = self._clock()
        if signature == self._seen and now - self._read_at < self._refresh_s:
            return None
        self._read_at = now
        try:
            result: DeadLetterTable | DeadLetterDbError = read_dead_letters(
                self.path, include_resolved=True, timeout=self._timeout
            )
        except DeadLetterDbError as exc:
            result = exc
            # A locked or missing file is retried at the next poll, not only when it changes.
            signature = ()
        self._seen = signature
        return result
