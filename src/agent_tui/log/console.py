"""A human-readable console line for development; ANSI colours only on a TTY without ``NO_COLOR``."""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import IO, Any, Final

import orjson

from agent_tui.log.formatter import JsonFormatter

__all__ = ["PrettyConsoleFormatter", "PrettyConsoleHandler", "use_colour"]

_COLOURS: Final = {
    "trace": "\x1b[2m",
    "debug": "\x1b[34m",
    "info": "\x1b[32m",
    "notice": "\x1b[36m",
    "warning": "\x1b[33m",
    "error": "\x1b[31m",
    "critical": "\x1b[1;37;41m",
}
_RESET: Final = "\x1b[0m"
_DIM: Final = "\x1b[2m"
_HEADER: Final = frozenset(("ts", "level", "event", "agent_id", "service", "logger", "error", "stack"))
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def use_colour(stream: IO[str]) -> bool:
    """True when ``stream`` is a terminal and ``NO_COLOR`` is unset (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:
        return False


def _safe(text: str) -> str:
    """Escape control characters so a logged value cannot drive the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _value(value: Any) -> str:
    if isinstance(value, str):
        return _safe(value)
    try:
        return _safe(orjson.dumps(value, default=str).decode())
    except Exception:
        return _safe(str(value))


class PrettyConsoleFormatter(JsonFormatter):
    """``03:21:44.312 INFO     casino bet.complete trace=7f3a2c9d outcome=win`` plus the traceback."""

    def __init__(self, agent_id: str = "default", service: str = "agent", *, colour: bool = False) -> None:
        """Create the formatter; ``colour`` adds ANSI colours by level."""
        super().__init__(agent_id, service)
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        """One readable line (plus indented traceback lines) without a trailing newline."""
        out = orjson.loads(self.format_bytes(record))
        level = str(out.get("level", ""))
        head = f"{str(out.get('ts', ''))[11:23]} {level.upper():<8} {_safe(str(out.get('logger', '')))}"
        event = _safe(str(out.get("event", "")))
        fields = [f"{k}={_value(v)}" for k, v in out.items() if k not in _HEADER]
        lines = [" ".join([head, event, *fields])]
        error = out.get("error")
        while isinstance(error, dict):
            lines.extend("    " + _safe(str(t)) for t in error.get("traceback", ()))
            error = error.get("cause")
        if self.colour:
            colour = _COLOURS.get(level, "")
            first = lines[0].replace(level.upper(), f"{colour}{level.upper()}{_RESET}", 1)
            lines = [first] + [f"{_DIM}{line}{_RESET}" for line in lines[1:]]
        return "\n".join(lines)


class PrettyConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A ``StreamHandler`` with a :class:`PrettyConsoleFormatter`, coloured only when the stream allows."""

    def __init__(self, agent_id: str, service: str, stream: IO[str] | None = None) -> None:
        """Write to ``stream`` (default ``sys.stdout``)."""
        target = stream if stream is not None else sys.stdout
        super().__init__(target)
        self.setFormatter(PrettyConsoleFormatter(agent_id, service, colour=use_colour(target)))
