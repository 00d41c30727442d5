"""One line to its JSON object, exactly (wide integers kept), and to the attributes filters and the detail
pane read (``attrs_of``: nested shapes flattened)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

import msgspec
import orjson

from agent_tui.model.parsing.formats import shapes as formats

__all__ = ["attrs_of", "decode_line"]

_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_exact_decode: Final = msgspec.json.Decoder().decode


def decode_line(line: bytes) -> object:
    """Decode one line as JSON exactly: integers wider than 64 bits (wei amounts, big ids) stay ints.

    msgspec first (orjson would turn such integers into rounded floats), orjson for what msgspec refuses
    (nesting deeper than its limit), then a tolerant pass (BOM, invalid UTF-8, NaN/Infinity).

    Raises:
        ValueError: the line is not JSON even for the tolerant pass (or nests too deeply).
    """
    try:
        return _exact_decode(line)
    except (msgspec.DecodeError, RecursionError):
        pass
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    text = line.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        obj = json.loads(text)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc
    if _SURROGATE_ESCAPE.search(text):
        # orjson refuses lone surrogates; json accepts them, but such str cannot be encoded for display.
        obj = _scrub(obj)
    return obj


def _scrub(value: Any) -> Any:
    """Replace lone surrogates in every string of a decoded value with U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value


def attrs_of(line: bytes, part: int = 0) -> dict[str, Any]:
    """The attribute mapping of one line, for filters and the detail pane (``{}`` for raw lines).

    Args:
        line: the line as stored (no trailing newline).
        part: for OTLP export lines, which log record of the line (in ``parse`` order).
    """
    try:
        obj = decode_line(line)
    except ValueError:
        return {}
    if type(obj) is not dict:
        return {}
    if formats.is_otlp(obj):
        records = list(formats.otlp_records(obj))
        return records[part] if 0 <= part < len(records) else {}
    if formats.is_loguru(obj):
        return formats.loguru_flat(obj)
    log = obj.get("log")
    if isinstance(log, str) and "stream" in obj and "time" in obj:
        inner = _inner_object(log)
        return inner if inner is not None else obj
    message = obj.get("MESSAGE")
    if isinstance(message, str) and ("__REALTIME_TIMESTAMP" in obj or "PRIORITY" in obj):
        inner = _inner_object(message)
        return inner if inner is not None else obj
    if isinstance(obj.get("attributes"), Mapping) and ("severity_text" in obj or "severity_number" in obj):
        return formats.otel_console_flat(obj)
    return obj


def _inner_object(text: str) -> dict[str, Any] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        inner = decode_line(text.strip().encode())
    except ValueError:
        return None
    return inner if type(inner) is dict else None
