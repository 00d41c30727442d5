"""The wire contract shared by the writer (``agent_tui.log``) and the reader (``agent_tui.model``)."""

from __future__ import annotations

from enum import IntEnum
from typing import Final, NewType

__all__ = [
    "EVENT_TRACE_COMPLETE",
    "EVENT_TRACE_FAILED",
    "EVENT_TRACE_START",
    "FIELD_ORDER",
    "LEVEL_NAMES",
    "Level",
    "SpanId",
    "TraceId",
    "level_from_name",
    "level_from_number",
    "parse_level",
]

TraceId = NewType("TraceId", str)
SpanId = NewType("SpanId", str)

FIELD_ORDER: Final = (
    "ts",
    "level",
    "event",
    "agent_id",
    "service",
    "logger",
    "trace_id",
    "span_id",
    "parent_span_id",
    "op",
    "duration_ms",
    "error",
)
"""Fields the formatter writes first, in this order; extras follow."""

EVENT_TRACE_START: Final = "trace.start"
EVENT_TRACE_COMPLETE: Final = "trace.complete"
EVENT_TRACE_FAILED: Final = "trace.failed"


class Level(IntEnum):
    """Normalised severity, ordered; values match stdlib ``logging`` where it has the level."""

    TRACE = 5
    DEBUG = 10
    INFO = 20
    NOTICE = 25
    WARNING = 30
    ERROR = 40
    CRITICAL = 50

    @property
    def label(self) -> str:
        """The lowercase wire name (``"warning"``)."""
        return self.name.lower()


LEVEL_NAMES: Final = tuple(level.label for level in Level)
"""Wire names in severity order: trace < debug < info < notice < warning < error < critical."""

_ALIASES: Final[dict[str, Level]] = {
    "trace": Level.TRACE,
    "silly": Level.TRACE,
    "finest": Level.TRACE,
    "debug": Level.DEBUG,
    "verbose": Level.DEBUG,
    "dbg": Level.DEBUG,
    "fine": Level.DEBUG,
    "info": Level.INFO,
    "information": Level.INFO,
    "informational": Level.INFO,
    "http": Level.INFO,
    "inf": Level.INFO,
    "notice": Level.NOTICE,
    "success": Level.NOTICE,
    "warning": Level.WARNING,
    "warn": Level.WARNING,
    "wrn": Level.WARNING,
    "error": Level.ERROR,
    "err": Level.ERROR,
    "eror": Level.ERROR,
    "critical": Level.CRITICAL,
    "crit": Level.CRITICAL,
    "fatal": Level.CRITICAL,
    "emerg": Level.CRITICAL,
    "emergency": Level.CRITICAL,
    "alert": Level.CRITICAL,
    "panic": Level.CRITICAL,
}


def level_from_name(name: str) -> Level | None:
    """Map a level name in any case and common spelling (``WARN``, ``crit``, ``SUCCESS``) to a Level."""
    level = _ALIASES.get(name)
    if level is None:
        level = _ALIASES.get(name.strip().lower())
    return level


_SYSLOG: Final = (
    Level.CRITICAL,  # 0 emerg
    Level.CRITICAL,  # 1 alert
    Level.CRITICAL,  # 2 crit
    Level.ERROR,  # 3 err
    Level.WARNING,  # 4 warning
    Level.NOTICE,  # 5 notice
    Level.INFO,  # 6 info
    Level.DEBUG,  # 7 debug
)


def level_from_number(value: int, scheme: str = "auto") -> Level | None:
    """Map a numeric level to a Level.

    Args:
        value: the number as written.
        scheme: ``"syslog"`` (0–7, journald ``PRIORITY``), ``"otel"`` (severity number 1–24),
            ``"pino"`` (10–60, also bunyan), ``"stdlib"`` (10–50) or ``"auto"``, which reads 10–60 in
            steps of ten as pino/bunyan, 1–24 as OpenTelemetry and 0 as syslog emergency.
    """
    if scheme == "syslog":
        return _SYSLOG[value] if 0 <= value <= 7 else None
    if scheme == "otel" or (scheme == "auto" and 1 <= value <= 24 and value % 10):
        if not 1 <= value <= 24:
            return None
        return (
            Level.TRACE,
            Level.DEBUG,
            Level.INFO,
            Level.WARNING,
            Level.ERROR,
            Level.CRITICAL,
        )[(value - 1) // 4]
    if scheme == "auto" and value == 0:
        return Level.CRITICAL
    if scheme in ("pino", "auto"):
        return {
            10: Level.TRACE,
            20: Level.DEBUG,
            30: Level.INFO,
            40: Level.WARNING,
            50: Level.ERROR,
            60: Level.CRITICAL,
        }.get(value)
    if scheme == "stdlib":
        for level in reversed(Level):
            if value >= level:
                return level
        return Level.TRACE
    return None


def parse_level(value: object) -> Level | None:
    """Best-effort Level from a name, a pino/bunyan/OTel number or a digit string; None if unknown."""
    if isinstance(value, str):
        level = level_from_name(value)
        if level is None and value.isdigit():
            return level_from_number(int(value))
        return level
    if isinstance(value, int) and not isinstance(value, bool):
        return level_from_number(value)
    return None
