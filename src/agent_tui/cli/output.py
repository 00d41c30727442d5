"""Terminal output for the headless commands: colour only on a TTY; log text never drives the terminal."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TextIO

import orjson

from agent_tui.model.parsing.formats.mapping import OP_KEYS
from agent_tui.model.views.shown import agent_key, shown_keys
from agent_tui.schema import Level

if TYPE_CHECKING:
    from agent_tui.model.parsing.parse import Parsed

__all__ = [
    "Palette",
    "clean",
    "clock",
    "format_value",
    "level_badge",
    "palette_for",
    "record_line",
    "use_colour",
    "write_lines",
]

# C0/C1 controls, DEL, and the Unicode bidi/format controls that can reorder or hide text (Trojan Source).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_SINGLE_LINE_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str, *, single_line: bool = True) -> str:
    """Log text made inert: control and bidi characters shown as visible ``\\xNN``/``\\uNNNN`` escapes.

    Args:
        text: any text taken from a log line.
        single_line: also escape tab and newline, so one record stays on one terminal line.
    """
    pattern = _SINGLE_LINE_UNSAFE if single_line else _UNSAFE
    return pattern.sub(_escape, text)


def use_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when ``stream`` is a terminal and neither ``NO_COLOR`` nor ``TERM=dumb`` asks for plain text."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", "") != "" or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass(frozen=True, slots=True)
class Palette:
    """ANSI SGR sequences, all empty when colour is off."""

    reset: str = ""
    dim: str = ""
    bold: str = ""
    red: str = ""
    green: str = ""
    yellow: str = ""
    blue: str = ""
    magenta: str = ""
    cyan: str = ""

    def level(self, level: Level) -> str:
        """The colour of a level badge."""
        if level >= Level.CRITICAL:
            return self.bold + self.magenta
        if level >= Level.ERROR:
            return self.bold + self.red
        if level >= Level.WARNING:
            return self.yellow
        if level >= Level.INFO:
            return self.green
        return self.blue


_ANSI: Final = Palette(
    reset="\x1b[0m",
    dim="\x1b[2m",
    bold="\x1b[1m",
    red="\x1b[31m",
    green="\x1b[32m",
    yellow="\x1b[33m",
    blue="\x1b[34m",
    magenta="\x1b[35m",
    cyan="\x1b[36m",
)
_PLAIN: Final = Palette()


def palette_for(stream: TextIO, environ: Mapping[str, str] | None = None) -> Palette:
    """The ANSI palette when ``stream`` should get colour, else the empty one."""
    return _ANSI if use_colour(stream, environ) else _PLAIN


def level_badge(level: Level, palette: Palette) -> str:
    """A fixed-width upper-case level name in its colour (``ERROR   ``)."""
    return f"{palette.level(level)}{level.label.upper():<8}{palette.reset}"


def clock(ts: float, *, date: bool = False) -> str:
    """UTC wall time with milliseconds (``03:21:44.312``), optionally with the date in front."""
    whole = int(ts)
    millis = round((ts - whole) * 1000)
    if millis == 1000:
        whole, millis = whole + 1, 0
    fmt = "%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S"
    return f"{time.strftime(fmt, time.gmtime(whole))}.{millis:03d}"


def format_value(value: Any, limit: int = 120) -> str:
    """A short, safe one-line rendering of an attribute value."""
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, bool):
        text = "null" if value is None else str(value).lower()
    elif isinstance(value, int | float):
        text = repr(value)
    else:
        try:
            text = orjson.dumps(value, default=str).decode()
        except TypeError:
            text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return clean(text)


def write_lines(lines: list[str], stream: TextIO = sys.stdout) -> None:
    """Write rendered lines in one call (the text is already cleaned)."""
    if lines:
        stream.write("\n".join(lines) + "\n")


_SKIP_KEYS: Final = frozenset(
    {"ts", "timestamp", "time", "level", "event", "msg", "message", "agent_id", "service", "logger", "error"}
)
_KEY_FIELDS: Final = ("trace_id", "op", "duration_ms")


def record_line(parsed: Parsed, line: bytes, palette: Palette, attrs_of: Callable[[bytes], Any]) -> str:
    """One safe, human line for a record: time, level, agent, event, then the other fields as ``k=v``."""
    p = palette
    if parsed.raw:
        return f"{p.dim}{clock(parsed.ts)}{p.reset} {level_badge(parsed.level, p)} {clean(parsed.event)}"
    attrs = parsed.attrs if parsed.attrs is not None else attrs_of(line)
    key = agent_key(attrs)
    agent = attrs[key] if key else ""
    shown = shown_keys(attrs, has_error=parsed.error is not None)
    if parsed.op:
        # op= is printed below, whichever alias it came from (pino writes it as "span").
        shown.add(next((key for key in OP_KEYS if key in attrs), ""))
    parts = [f"{p.dim}{clock(parsed.ts)}{p.reset}", level_badge(parsed.level, p)]
    if agent:
        parts.append(f"{p.cyan}{format_value(agent, 40)}{p.reset}")
    parts.append(f"{p.bold}{clean(parsed.event)}{p.reset}")
    for key, value in attrs.items():
        if key in _SKIP_KEYS or key in _KEY_FIELDS or key in shown:
            continue
        parts.append(f"{p.dim}{clean(str(key))}={p.reset}{format_value(value, 60)}")
    if parsed.op:
        parts.append(f"{p.dim}op={p.reset}{clean(parsed.op)}")
    if parsed.trace_id:
        parts.append(f"{p.dim}trace={p.reset}{clean(parsed.trace_id)}")
    if parsed.error is not None:
        parts.append(f"{p.red}{clean(parsed.error.type)}: {clean(parsed.error.message)}{p.reset}")
    return " ".join(parts)
