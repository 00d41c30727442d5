"""The generic mapping of one decoded line by the DESIGN §5 alias search, with envelopes and raw lines.

``LineParser`` (in ``agent_tui.model.parsing.parse``) builds on ``GenericParser``: lines whose key set has a
plan skip this module; everything else (first sight of a key set, ambiguous aliases, envelopes, overrides,
text, bad JSON) is mapped here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from agent_tui.model.parsing.formats import shapes as formats
from agent_tui.model.parsing.formats.decoding import decode_line
from agent_tui.model.parsing.formats.mapping import (
    ALIASES,
    ERROR_KEYS,
    ID_CACHE,
    LEVEL_CACHE,
    LEVEL_KEYS,
    LEVEL_SCHEME,
    MESSAGE_KEYS,
    OP_KEYS,
    PARENT_KEYS,
    SPAN_KEYS,
    TIME_KEYS,
    TRACE_KEYS,
    Plan,
    error_of,
    is_span_line,
    lookup,
    text,
    time_of,
)
from agent_tui.model.parsing.projection import Projection
from agent_tui.model.parsing.timeparse import epoch_from_number, parse_time, parse_time_str
from agent_tui.model.record import ErrorInfo
from agent_tui.schema import Level

__all__ = ["BOM", "ROLES", "GenericParser", "Parsed", "decode_line"]

ROLES: Final = ("ts", "level", "event", "trace_id", "span_id", "parent_span_id", "op", "error")
"""Roles a ``--field ROLE=KEY`` override can name."""

_RAW_TIME: Final = re.compile(rb"\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)")
_RAW_LEVEL: Final = re.compile(
    rb"\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|CRIT|FATAL|PANIC|EMERG|ALERT)\b"
)
BOM: Final = b"\xef\xbb\xbf"
"""The UTF-8 byte order mark some Windows tools put before a file's first line."""
_SALVAGE_LEVEL: Final = re.compile(rb'"(?:level|levelname|severity|lvl)"\s*:\s*"?(\w+)')
_SALVAGE_TIME: Final = re.compile(rb'"(?:ts|timestamp|time|@timestamp|asctime)"\s*:\s*"([^"]{10,40})"')


@dataclass(slots=True)
class Parsed:
    """One normalised record before the store gives it a seq."""

    ts: float
    """Epoch seconds UTC (the previous record's time when the line had none)."""
    ts_inferred: bool
    level: Level
    event: str
    """The message; for raw lines the line text, decoded with replacement characters."""
    trace_id: str | None
    span_id: str | None
    parent_span_id: str | None
    op: str | None
    error: ErrorInfo | None
    raw: bool
    """True when the line was not a JSON object we could map."""
    attrs: dict[str, Any] | None = None
    """The user-facing attribute mapping when the parser was asked to keep it (``keep_attrs``)."""


class GenericParser:
    """Per-source state and the generic (alias-search) mapping; ``LineParser`` adds the batch entry points.

    State: the previous record's time (for lines without one), the alias each role used last, the plans
    made per key set, and Docker partial lines waiting for their end.
    """

    def __init__(
        self,
        overrides: Mapping[str, str] | None = None,
        *,
        keep_attrs: bool = False,
        now: Callable[[], float] = time.time,
        project: bool = True,
    ) -> None:
        """Create a parser.

        Args:
            overrides: ``{role: key}`` from ``--field ROLE=KEY`` (roles in ``ROLES``; ``time``, ``msg`` and
                ``message`` are accepted as ``ts``/``event``). The key is tried before the aliases; a dotted
                key also reaches into nested objects.
            keep_attrs: put the decoded mapping in ``Parsed.attrs`` (otherwise None; see ``attrs_of``).
            now: time for lines before the first timed one (tests pass a fixed clock).
            project: read planned lines through a projection (``agent_tui.model.parsing.projection``) instead
                of decoding whole objects; overrides and ``keep_attrs`` turn it off (both need the object).
        """
        self._overrides = _normalise_overrides(overrides or {})
        self._keep_attrs = keep_attrs
        self._now = now
        self._last_ts: float | None = None
        self._keys: dict[str, str] = {}
        self._docker_partial: dict[str, list[str]] = {}
        self._plans: dict[tuple[str, ...], Plan] = {}
        self._project = project and not self._overrides and not keep_attrs
        self._projection: Projection | None = None

    def _now_or_last(self) -> float:
        last = self._last_ts
        if last is None:
            last = self._last_ts = self._now()
        return last

    def _raw(self, line: bytes, fallback_ts: float | None = None) -> Parsed:
        """A record for a line we cannot map: its text, and any leading time or level word it shows."""
        if line.startswith(BOM):
            line = line[3:]
        if line.endswith(b"\r"):
            line = line[:-1]
        ts = fallback_ts
        # A truncated or otherwise broken JSON object still shows its time and level.
        salvage = line.startswith(b"{")
        if ts is None:
            m = _SALVAGE_TIME.search(line, 0, 400) if salvage else _RAW_TIME.match(line)
            if m is not None:
                ts = parse_time_str(m.group(1).decode("utf-8", "replace"))
        inferred = ts is None
        if ts is None:
            ts = self._now_or_last()
        else:
            self._last_ts = ts
        level = Level.INFO
        m = (_SALVAGE_LEVEL if salvage else _RAW_LEVEL).search(line, 0, 400)
        if m is not None:
            level = formats.level_of(m.group(1).decode("utf-8", "replace")) or Level.INFO
        event = line.decode("utf-8", "replace")
        return Parsed(
            ts, inferred, level, event, None, None, None, None, None, True, {} if self._keep_attrs else None
        )

    def _key(self, obj: Mapping[str, Any], role: str, aliases: tuple[str, ...]) -> Any:
        """The value for ``role``: the source's last-used key first, then the aliases in order."""
        keys = self._keys
        key = keys.get(role)
        if key is not None:
            value = obj.get(key)
            if value is not None:
                return value
        for key in aliases:
            value = obj.get(key)
            if value is not None:
                keys[role] = key
                return value
        return None

    def _map(self, obj: dict[str, Any], fallback_ts: float | None, fallback_level: Level | None) -> Parsed:
        """Map one flat JSON object (the hot path)."""
        if self._overrides:
            return self._map_overridden(obj, fallback_ts, fallback_level)
        get = obj.get
        keys = self._keys
        # time
        value = get(keys.get("ts", "ts"))
        if value is None:
            value = self._key(obj, "ts", TIME_KEYS)
        ts = time_of(value, obj) if value is not None else None
        if ts is None:
            ts = fallback_ts
        if ts is None:
            ts = self._now_or_last()
            inferred = True
        else:
            self._last_ts = ts
            inferred = False
        # level
        level_key = keys.get("level", "level")
        value = get(level_key)
        kind = type(value)
        level = LEVEL_CACHE.get((level_key, value)) if kind is str or kind is int else None
        if level is None:
            level = self._level(obj, fallback_level)
        # message
        value = get(keys.get("event", "event"))
        if type(value) is not str:
            value = text(self._key(obj, "event", MESSAGE_KEYS))
        event = value
        trace_id = self._id(obj, "trace_id", TRACE_KEYS)
        span_id = self._id(obj, "span_id", SPAN_KEYS)
        parent = self._id(obj, "parent_span_id", PARENT_KEYS) if span_id is not None else None
        op = get(keys.get("op", "op"))
        if type(op) is not str:
            op = self._op(obj)
        error = None if ERROR_KEYS.isdisjoint(obj) else error_of(obj)
        if error is None and "attributes" in obj and isinstance(obj["attributes"], Mapping):
            error = error_of(obj["attributes"])
        return Parsed(
            ts,
            inferred,
            level,
            event,
            trace_id,
            span_id,
            parent,
            op,
            error,
            False,
            obj if self._keep_attrs else None,
        )

    def _level(self, obj: Mapping[str, Any], fallback: Level | None) -> Level:
        cached = self._keys.get("level")
        first = ((cached, LEVEL_SCHEME.get(cached, "auto")),) if cached else ()
        for key, scheme in (*first, *LEVEL_KEYS):
            value = obj.get(key)
            if value is None:
                continue
            level = formats.level_of(value, scheme)
            if level is not None:
                self._keys["level"] = key
                if type(value) in (str, int) and len(LEVEL_CACHE) < 4096:
                    LEVEL_CACHE[(key, value)] = level
                return level
        return fallback if fallback is not None else Level.INFO

    def _id(self, obj: Mapping[str, Any], role: str, aliases: tuple[str, ...]) -> str | None:
        value = obj.get(self._keys.get(role, role))
        if value is None:
            value = self._key(obj, role, aliases)
            if value is None:
                nested = obj.get(role.partition("_")[0])
                if isinstance(nested, Mapping):
                    value = nested.get("id")
        if type(value) is str:
            hit = ID_CACHE.get(value)
            if hit is not None:
                return hit
        result = formats.normalise_id(value)
        if result is not None and type(value) is str and len(ID_CACHE) < 65_536:
            ID_CACHE[value] = result
        return result

    def _op(self, obj: Mapping[str, Any]) -> str | None:
        value = self._key(obj, "op", OP_KEYS)
        if isinstance(value, str):
            return value
        if "name" in obj and is_span_line(obj) and isinstance(obj["name"], str):
            return str(obj["name"])
        return None

    def _map_overridden(
        self, obj: dict[str, Any], fallback_ts: float | None, fallback_level: Level | None
    ) -> Parsed:
        """Map with ``--field`` overrides: each overridden role reads its key first, then the aliases."""
        patched = dict(obj)
        for role, key in self._overrides.items():
            value = lookup(obj, key)
            if value is not None:
                target = "error" if role == "error" else ALIASES[role][0]
                if role == "level" and key in LEVEL_SCHEME:
                    target = key
                patched[target] = value
                self._keys[role] = target
        self._overrides, saved = {}, self._overrides
        try:
            parsed = self._map(patched, fallback_ts, fallback_level)
        finally:
            self._overrides = saved
        if self._keep_attrs:
            parsed.attrs = obj
        return parsed

    def _envelope(self, obj: dict[str, Any], line: bytes) -> list[Parsed]:
        """Records from a line that may be a nested shape (OTLP, loguru, Docker, journald)."""
        if formats.is_otlp(obj):
            records = [self._map(flat, None, None) for flat in formats.otlp_records(obj)]
            return records or [self._raw(line)]
        if formats.is_loguru(obj):
            return [self._with_attrs(self._map(formats.loguru_flat(obj), None, None), None)]
        log = obj.get("log")
        if isinstance(log, str) and "stream" in obj and "time" in obj:
            return self._docker(obj, log)
        if "__REALTIME_TIMESTAMP" in obj or ("MESSAGE" in obj and "PRIORITY" in obj):
            return [self._journald(obj)]
        return [self._map(obj, None, None)]

    def _with_attrs(self, parsed: Parsed, attrs: dict[str, Any] | None) -> Parsed:
        if not self._keep_attrs:
            parsed.attrs = None
        elif attrs is not None:
            parsed.attrs = attrs
        return parsed

    def _inner(self, text: str, fallback_ts: float | None, fallback_level: Level | None) -> Parsed:
        """Map a line carried inside an envelope (Docker ``log``, journald ``MESSAGE``)."""
        stripped = text.strip()
        if stripped.startswith("{"):
            try:
                inner = decode_line(stripped.encode())
            except ValueError:
                inner = None
            if type(inner) is dict:
                return self._map(inner, fallback_ts, fallback_level)
        parsed = self._raw(text.rstrip("\r\n").encode(), fallback_ts)
        if fallback_level is not None:
            parsed.level = fallback_level
        return parsed

    def _docker(self, obj: dict[str, Any], log: str) -> list[Parsed]:
        """Docker json-file: lines over 16 KiB arrive in pieces; only the last ends with a newline."""
        stream = str(obj.get("stream"))
        if not log.endswith("\n"):
            self._docker_partial.setdefault(stream, []).append(log)
            return []
        pieces = self._docker_partial.pop(stream, None)
        text = "".join(pieces) + log if pieces else log
        parsed = self._inner(text[:-1], parse_time(obj.get("time")), None)
        return [self._with_attrs(parsed, None)]

    def _journald(self, obj: dict[str, Any]) -> Parsed:
        """journalctl -o json: MESSAGE may hold a JSON line (or a byte array, or null)."""
        realtime = obj.get("__REALTIME_TIMESTAMP")
        ts = epoch_from_number(int(realtime)) if isinstance(realtime, str) and realtime.isdigit() else None
        level = formats.level_of(obj.get("PRIORITY"), "syslog")
        message = obj.get("MESSAGE")
        if isinstance(message, list):
            message = bytes(b & 0xFF for b in message if isinstance(b, int)).decode("utf-8", "replace")
        if isinstance(message, str):
            return self._inner(message, ts, level)
        flat = {k: v for k, v in obj.items() if k != "MESSAGE"}
        parsed = self._map(flat, ts, level)
        parsed.event = ""
        return self._with_attrs(parsed, obj)


def _normalise_overrides(overrides: Mapping[str, str]) -> dict[str, str]:
    synonyms = {"time": "ts", "timestamp": "ts", "msg": "event", "message": "event"}
    out: dict[str, str] = {}
    for name, key in overrides.items():
        role = synonyms.get(name, name)
        if role not in ROLES:
            raise ValueError(f"unknown field role {name!r}; expected one of {', '.join(ROLES)}")
        out[role] = key
    return out
