"""``JsonFormatter``: one orjson line per ``logging`` record, fields in the wire order, never raising."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Mapping
from typing import Any, Final

import orjson

from agent_tui.log._encode import DUMPS_OPTIONS, default, dumps_line
from agent_tui.log.context import BOUND, PARENT_SPAN_ID, SPAN_ID, TRACE_ID
from agent_tui.log.redact import REDACTED, Redactor
from agent_tui.schema import FIELD_ORDER, Level

__all__ = ["EXTRA_ATTR", "STANDARD_ATTRS", "JsonFormatter", "error_info", "format_ts"]

EXTRA_ATTR: Final = "_agent_tui_extra"
"""Record attribute where :class:`~agent_tui.log.logger.AgentLogger` keeps the ``extra=`` mapping."""
_ERROR_ATTR: Final = "_agent_tui_error"

STANDARD_ATTRS: Final = frozenset(
    [
        *vars(logging.LogRecord("", 0, "", 0, "", None, None)),
        "message",
        "asctime",
        "taskName",
        EXTRA_ATTR,
        _ERROR_ATTR,
    ]
)
"""Attributes every ``LogRecord`` has; anything else on a record is an ``extra=`` field."""

_ORDERED: Final = frozenset(FIELD_ORDER)
_FIXED: Final = frozenset(("ts", "level", "event"))
_UNSCRUBBED: Final = frozenset(FIELD_ORDER) - {"event", "error"}
_LEVELS: Final = {int(level): level.label for level in Level}
_MS: Final = tuple(f".{i:03d}Z" for i in range(1000))
_MAX_CAUSES: Final = 8


class _TsCache:
    """Caches the ``YYYY-MM-DDTHH:MM:SS`` prefix of the current second (one tuple swap: thread-safe)."""

    __slots__ = ("current",)

    def __init__(self) -> None:
        self.current: tuple[int, str] = (-1, "")

    def format(self, created: float) -> str:
        sec = int(created)
        cached = self.current
        if cached[0] != sec:
            cached = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
            self.current = cached
        return cached[1] + _MS[int((created - sec) * 1000)]


_TS = _TsCache()


def format_ts(created: float) -> str:
    """RFC 3339 UTC with milliseconds, truncated like the seed: ``2026-03-04T03:21:44.312Z``."""
    return _TS.format(created)


def _traceback_lines(exc: BaseException) -> list[str]:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, chain=False))
    return text.rstrip("\n").split("\n")


def error_info(exc: BaseException) -> dict[str, Any]:
    """The wire ``error`` object: ``{type, message, traceback[], cause}``, causes chained recursively."""
    root: dict[str, Any] = {}
    node, current, seen = root, exc, {id(exc)}
    for _ in range(_MAX_CAUSES):
        try:
            message = str(current)
        except Exception:
            message = f"<unprintable {type(current).__name__}>"
        node.update(type=type(current).__name__, message=message, traceback=_traceback_lines(current))
        nxt = current.__cause__
        if nxt is None and not current.__suppress_context__:
            nxt = current.__context__
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        child: dict[str, Any] = {}
        node["cause"] = child
        node, current = child, nxt
    return root


class JsonFormatter(logging.Formatter):
    """Formats records as wire-schema JSON lines; use ``format_bytes`` in handlers (one ``\\n``-ended line).

    Trace fields come from the current context (or the record, for records made elsewhere), ``extra=``
    fields go to the top level after the schema fields, secrets are redacted, and no value can make it raise.
    """

    def __init__(
        self,
        agent_id: str = "default",
        service: str = "agent",
        *,
        redactor: Redactor | None = None,
        redact: bool = True,
    ) -> None:
        """Create a formatter.

        Args:
            agent_id: written as ``agent_id`` on every line.
            service: written as ``service`` on every line.
            redactor: custom secret rules; defaults to :class:`Redactor` with the built-in rules.
            redact: False turns redaction off entirely.
        """
        super().__init__()
        self.agent_id = agent_id
        self.service = service
        self.redactor: Redactor | None = (redactor or Redactor()) if redact else None

    def format(self, record: logging.LogRecord) -> str:
        """The JSON line as text, without the trailing newline (stdlib ``Formatter`` API)."""
        return self.format_bytes(record)[:-1].decode("utf-8", "replace")

    def format_bytes(self, record: logging.LogRecord) -> bytes:
        """The JSON line as UTF-8 bytes ending in ``\\n``."""
        out, scrub = self._build(record)
        if scrub:
            assert self.redactor is not None
            out = self._scrub(out, self.redactor)
        try:
            return orjson.dumps(out, default=default, option=DUMPS_OPTIONS)
        except Exception:
            return dumps_line(out)

    def build(self, record: logging.LogRecord) -> dict[str, Any]:
        """The record as the ordered dict that would be written (after redaction)."""
        out, scrub = self._build(record)
        if scrub:
            assert self.redactor is not None
            out = self._scrub(out, self.redactor)
        return out

    def _build(self, record: logging.LogRecord) -> tuple[dict[str, Any], bool]:
        d = record.__dict__
        msg = record.msg
        if record.args or type(msg) is not str:
            msg = _message(record)
        level = _LEVELS.get(record.levelno) or str(record.levelname).lower()
        created = record.created
        sec = int(created)
        cached = _TS.current
        if cached[0] != sec:
            cached = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
            _TS.current = cached
        out: dict[str, Any] = {
            "ts": cached[1] + _MS[int((created - sec) * 1000)],
            "level": level,
            "event": msg,
            "agent_id": self.agent_id,
            "service": self.service,
            "logger": record.name,
        }
        trace_id = TRACE_ID.get()
        if trace_id is not None:
            out["trace_id"] = trace_id
            out["span_id"] = SPAN_ID.get()
            parent = PARENT_SPAN_ID.get()
            if parent is not None:
                out["parent_span_id"] = parent
        extra: Mapping[str, Any] | None = d.get(EXTRA_ATTR)
        if extra is None:
            extra = {k: d[k] for k in d if k not in STANDARD_ATTRS}
        bound = BOUND.get()
        slow = bool(record.exc_info or record.stack_info or bound)
        if slow or (extra and not extra.keys().isdisjoint(_ORDERED)):
            out = self._merge(record, out, extra, bound)
        elif extra:
            out.update(extra)
        redactor = self.redactor
        if redactor is None:
            return out, False
        return out, slow or redactor.record_needs_scrub(msg, extra)

    def _merge(
        self,
        record: logging.LogRecord,
        out: dict[str, Any],
        extra: Mapping[str, Any] | None,
        bound: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        merged: dict[str, Any] = dict(bound) if bound else {}
        if extra:
            merged.update(extra)
        for key in _FIXED:
            merged.pop(key, None)
        error = _record_error(record)
        if error is not None:
            merged["error"] = error
        result: dict[str, Any] = {}
        for key in FIELD_ORDER:
            if key in merged:
                value = merged.pop(key)
                if value is not None or key not in out:
                    result[key] = value
                    continue
            if key in out:
                result[key] = out[key]
        result.update(merged)
        if record.stack_info:
            result["stack"] = str(record.stack_info).rstrip("\n").split("\n")
        return result

    def _scrub(self, out: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        for key, value in out.items():
            if key in _UNSCRUBBED:
                clean[key] = value
            elif key not in ("event", "error") and redactor.key_is_secret(str(key)):
                clean[key] = REDACTED
            else:
                clean[key] = redactor.scrub(value)
        return clean


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:
        try:
            return f"{record.msg} {record.args!r}"
        except Exception:
            return "<unprintable message>"


def _record_error(record: logging.LogRecord) -> dict[str, Any] | None:
    exc_info = record.exc_info
    if not exc_info or exc_info[1] is None:
        return None
    cached: dict[str, Any] | None = record.__dict__.get(_ERROR_ATTR)
    if cached is None:
        try:
            cached = error_info(exc_info[1])
        except Exception as exc:
            cached = {"type": type(exc_info[1]).__name__, "message": f"<error info failed: {exc!r}>"}
        record.__dict__[_ERROR_ATTR] = cached
    return cached
