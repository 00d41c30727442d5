"""orjson serialisation that never raises: exact Decimals, RFC 3339 datetimes, base64 bytes, str()."""

from __future__ import annotations

import base64
import decimal
from collections.abc import Mapping
from typing import Any, Final

import orjson

__all__ = ["DUMPS_OPTIONS", "default", "dumps_line", "dumps_value", "sanitize"]

DUMPS_OPTIONS: Final = (
    orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
)
"""Options for one wire line: trailing newline, any dict keys, naive datetimes read as UTC, ``Z`` suffix."""

_MAX_DEPTH: Final = 64


def _decimal(value: decimal.Decimal) -> Any:
    if value.is_finite():
        # A Fragment is copied verbatim, so 0.1 stays 0.1 instead of 0.1000000000000000055…
        return orjson.Fragment(str(value))
    return str(value)


def default(obj: Any) -> Any:
    """orjson ``default`` hook: map what orjson cannot serialise to JSON, never raising."""
    try:
        if isinstance(obj, decimal.Decimal):
            return _decimal(obj)
        if isinstance(obj, bytes | bytearray | memoryview):
            return base64.b64encode(bytes(obj)).decode("ascii")
        if isinstance(obj, set | frozenset):
            return list(obj)
        return str(obj)
    except Exception:
        return _unprintable(obj)


def _unprintable(obj: object) -> str:
    return f"<unprintable {type(obj).__name__}>"


def sanitize(value: Any, depth: int = 0) -> Any:
    """Return a copy of ``value`` that orjson serialises without error (big ints, deep nesting, odd keys)."""
    if depth > _MAX_DEPTH:
        return "<too deep>"
    if isinstance(value, bool) or value is None or isinstance(value, float | str):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else orjson.Fragment(str(int(value)))
    if isinstance(value, Mapping):
        return {_key(k): sanitize(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [sanitize(v, depth + 1) for v in value]
    try:
        orjson.dumps(value, default=default, option=DUMPS_OPTIONS)
    except Exception:
        return default(value) if not isinstance(value, Mapping) else _unprintable(value)
    return value


def _key(key: object) -> str:
    if isinstance(key, str):
        return key
    try:
        return str(key)
    except Exception:
        return _unprintable(key)


def dumps_line(obj: dict[str, Any]) -> bytes:
    """Serialise one record dict to a ``\\n``-terminated JSON line; falls back to a sanitised copy."""
    try:
        return orjson.dumps(obj, default=default, option=DUMPS_OPTIONS)
    except Exception:
        return orjson.dumps(sanitize(obj), default=default, option=DUMPS_OPTIONS)


def dumps_value(obj: dict[str, Any]) -> bytes:
    """Like :func:`dumps_line` without the trailing newline (for Loki entries)."""
    options = DUMPS_OPTIONS & ~orjson.OPT_APPEND_NEWLINE
    try:
        return orjson.dumps(obj, default=default, option=options)
    except Exception:
        return orjson.dumps(sanitize(obj), default=default, option=options)
