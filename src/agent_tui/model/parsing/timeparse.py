"""Turn the time values log libraries write (ISO strings, epoch numbers of any unit) into epoch seconds."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Final

__all__ = ["epoch_from_number", "minute_cache", "parse_time", "parse_time_str"]

_SECONDS_BELOW: Final = 1e11
"""Epoch values below this are seconds (up to the year 5138); each step of 1000 above is a finer unit."""
_MILLIS_BELOW: Final = 1e14
_MICROS_BELOW: Final = 1e17
_LATEST: Final = 253402300799.0
"""9999-12-31T23:59:59Z: later values cannot be shown as dates, so they are not usable times."""

_ISO: Final = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?"
    r"\s*(?:([Zz]|UTC|GMT)|([+-])(\d\d)(?::?(\d\d))?)?"
)
_EPOCH_TEXT: Final = re.compile(r"-?\d+(?:\.\d*)?")

minute_cache: dict[str, float] = {}
"""``"2026-03-04T03:21"`` → epoch seconds of that minute (UTC); a few thousand entries per day of logs."""
_MINUTE_CACHE_MAX: Final = 100_000


def epoch_from_number(value: float) -> float | None:
    """Epoch seconds from a number in seconds, milliseconds, microseconds or nanoseconds, chosen by magnitude.

    Zero, negative, NaN and infinite values are not usable times and give None.
    """
    if not value > 0 or value == math.inf:
        return None
    if value >= _SECONDS_BELOW and value / 1e9 > _LATEST:
        return None
    if value < _SECONDS_BELOW:
        return float(value)
    if value < _MILLIS_BELOW:
        return value / 1e3
    if value < _MICROS_BELOW:
        return value / 1e6
    seconds = value / 1e9
    return seconds if seconds <= _LATEST else None


def _minute(text: str) -> float | None:
    """Epoch seconds of the ``YYYY-MM-DDTHH:MM`` prefix of ``text``, cached; None if not a real date."""
    key = text[:16]
    base = minute_cache.get(key)
    if base is None:
        try:
            base = datetime(
                int(key[0:4]), int(key[5:7]), int(key[8:10]), int(key[11:13]), int(key[14:16]), tzinfo=UTC
            ).timestamp()
        except ValueError:
            return None
        if len(minute_cache) >= _MINUTE_CACHE_MAX:
            minute_cache.clear()
        minute_cache[key] = base
    return base


def parse_time_str(text: str) -> float | None:
    """Epoch seconds from an ISO-8601/RFC 3339 string or an epoch digit string; None if neither.

    Strings without a zone are read as UTC. Both ``.`` and ``,`` separate fractional seconds
    (``2025-11-24 14:03:07,413`` from stdlib ``asctime``).
    """
    # Fast path for the shapes nearly every log uses: "…T03:21:44.312Z" and "… 14:03:07,413".
    if len(text) >= 19 and text[16] == ":" and text[4] == "-" and text[10] in "T ":
        tail = text[17:]
        if tail[-1:] == "Z":
            tail = tail[:-1]
        if len(tail) < 3 or tail[2] in ".,":
            base = _minute(text)
            if base is not None:
                try:
                    seconds = float(tail.replace(",", ".", 1))
                except ValueError:
                    seconds = -1.0
                if 0.0 <= seconds < 61.0:  # float() also reads "44.5e3" and "nan"
                    return base + seconds
    return _parse_time_slow(text)


def _parse_time_slow(text: str) -> float | None:
    text = text.strip()
    m = _ISO.fullmatch(text)
    if m is None:
        if _EPOCH_TEXT.fullmatch(text):
            return epoch_from_number(float(text))
        return None
    year, month, day, hour, minute, sec, frac, utc, sign, zh, zm = m.groups()
    try:
        base = datetime(int(year), int(month), int(day), int(hour), int(minute), tzinfo=UTC).timestamp()
    except ValueError:
        return None
    seconds = int(sec) if sec else 0
    if seconds > 60:
        return None
    value = base + seconds + (float("0." + frac) if frac else 0.0)
    if sign and not utc:
        offset = int(zh) * 3600 + int(zm or 0) * 60
        value -= offset if sign == "+" else -offset
    return value


def parse_time(value: object) -> float | None:
    """Epoch seconds from any time value a log line may carry (string, int or float); None if unusable."""
    if isinstance(value, str):
        return parse_time_str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch_from_number(value)
    return None
