"""Level spellings, id forms, error shapes and nested envelopes of other log libraries, flattened for mapping.

Nested shapes are flattened into one mapping per record (the user-facing ``attrs``) that the alias rules of
``agent_tui.model.parsing.parse`` then map like any flat line:

* loguru ``serialize=True``: ``record.extra`` merged at the top, plus ``time`` (epoch seconds), ``level``,
  ``message``, ``logger``, ``module``, ``function``, ``line``, ``file``, ``process``, ``thread`` and an
  ``error`` object built from ``record.exception`` and the traceback in ``text``.
* OpenTelemetry console records: ``resource.attributes`` then ``attributes`` merged at the top (later wins),
  then the record's own fields (``body``, ``severity_text``, ``timestamp``, ``trace_id`` …).
* OTLP/JSON export lines: one mapping per ``logRecord``: resource attributes, ``otel.scope.name``, the
  record's attributes, then ``time`` (ns), ``severity_number``, ``severity_text``, ``body``, ``trace_id``,
  ``span_id``, ``flags``; attribute value unions (``stringValue``, ``kvlistValue`` …) become plain values.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from agent_tui.model.record import ErrorInfo
from agent_tui.schema import Level, level_from_name, level_from_number

__all__ = [
    "any_value",
    "error_from_object",
    "error_from_text",
    "is_loguru",
    "is_otlp",
    "level_of",
    "loguru_flat",
    "normalise_id",
    "otel_console_flat",
    "otlp_records",
]

_ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_EXC_HEADER: Final = re.compile(r"([A-Za-z_$][\w.$<>]*)(?::\s?(.*))?", re.DOTALL)
_CHAIN_MARKERS: Final = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)


def level_of(value: object, scheme: str = "auto") -> Level | None:
    """Level from a name in any case (ANSI colour codes ignored) or a number in ``scheme``; None if unknown.

    Schemes: ``auto`` (pino/bunyan 10–60, OTel 1–24), ``otel``, ``syslog`` (journald ``PRIORITY``),
    ``stdlib`` (10–50, loguru's ``level.no``). Digit strings are read as numbers.
    """
    if isinstance(value, str):
        level = level_from_name(value)
        if level is not None:
            return level
        text = value.strip()
        if text.isdigit():
            return level_from_number(int(text), scheme)
        if "\x1b" in text:
            return level_from_name(_ANSI.sub("", text))
        # OTel enum spellings: Python's "SeverityNumber.WARN2", protobuf JSON's "SEVERITY_NUMBER_WARN2".
        for prefix in ("SeverityNumber.", "SEVERITY_NUMBER_"):
            if text.startswith(prefix):
                return level_from_name(text[len(prefix) :].rstrip("0123456789"))
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return level_from_number(value, scheme)
    if isinstance(value, float) and value.is_integer():
        return level_from_number(int(value), scheme)
    return None


_id_cache: dict[str, str | None] = {}
_ID_CACHE_MAX: Final = 65_536


def normalise_id(value: object) -> str | None:
    """A trace/span id as text: ``0x`` prefix stripped, all-zero and empty ids mean none; interned."""
    if isinstance(value, str):
        hit = _id_cache.get(value, "")
        if hit != "":
            return hit
        text = value.strip()
        if text[:2] in ("0x", "0X"):
            text = text[2:]
        result = None if not text or not text.strip("0") else text
        if len(_id_cache) >= _ID_CACHE_MAX:
            _id_cache.clear()
        _id_cache[value] = result
        return result
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if value else None
    return None


def _otlp_id(value: object) -> str | None:
    """OTLP ids are hex per the OTLP/JSON spec, but protobuf's own JSON mapping writes them in base64."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) in (16, 32) and all(c in "0123456789abcdefABCDEF" for c in value):
        return normalise_id(value.lower())
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return normalise_id(value)
    return normalise_id(raw.hex()) if len(raw) in (8, 16) else normalise_id(value)


def _header(text: str) -> tuple[str, str]:
    """``("ValueError", "bad")`` from a ``ValueError: bad`` line; non-identifier heads give ``Error``."""
    m = _EXC_HEADER.fullmatch(text.strip())
    if m is None:
        return "Error", text.strip()
    return m.group(1), (m.group(2) or "").strip()


def _python_block(lines: list[str]) -> ErrorInfo:
    """One exception of a Python traceback: the exception line(s) follow the last indented frame line."""
    start = len(lines) - 1
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if line[:1] in (" ", "\t") or line.startswith("Traceback ("):
            start = i + 1
            break
        start = i
    head = "\n".join(lines[start:]) if start < len(lines) else (lines[-1] if lines else "")
    exc_type, message = _header(head)
    return ErrorInfo(exc_type, message, tuple(lines))


def error_from_text(text: str) -> ErrorInfo | None:
    """Parse a Python traceback (chained causes included) or a JavaScript ``stack``; None for empty text."""
    lines = [line for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    if lines[0].startswith("Traceback (") or any(line.startswith('  File "') for line in lines):
        blocks: list[list[str]] = [[]]
        for line in lines:
            if line.strip() in _CHAIN_MARKERS:
                blocks.append([])
            elif line.strip() or blocks[-1]:
                blocks[-1].append(line)
        error: ErrorInfo | None = None
        for block in blocks:
            if block:
                info = _python_block(block)
                error = ErrorInfo(info.type, info.message, info.traceback, error)
        return error
    # JavaScript (and most other) stacks: "Type: message" first, then "    at …" frames.
    exc_type, message = _header(lines[0])
    return ErrorInfo(exc_type, message, tuple(lines))


def _traceback_lines(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.rstrip("\n").split("\n")) if value else ()
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(str(item).rstrip("\n").split("\n"))
        return tuple(out)
    return ()


def _structlog_stacks(stacks: list[Any]) -> ErrorInfo | None:
    """structlog ``dict_tracebacks``: a list of stacks, the raised exception first, then its causes."""
    error: ErrorInfo | None = None
    for stack in reversed(stacks):
        if not isinstance(stack, Mapping):
            continue
        frames = []
        for frame in stack.get("frames") or ():
            if isinstance(frame, Mapping):
                frames.append(
                    f'  File "{frame.get("filename", "?")}", line {frame.get("lineno", "?")}, '
                    f"in {frame.get('name', '?')}"
                )
                if frame.get("line"):
                    frames.append(f"    {str(frame['line']).strip()}")
        exc_type = str(stack.get("exc_type") or "Error")
        message = str(stack.get("exc_value") or "")
        frames.append(f"{exc_type}: {message}" if message else exc_type)
        error = ErrorInfo(exc_type, message, tuple(frames), error)
    return error


def error_from_object(value: object) -> ErrorInfo | None:
    """ErrorInfo from an ``error``/``err``/``exception`` value of any common shape; None when empty."""
    if isinstance(value, str):
        return error_from_text(value) if value.strip() else None
    if isinstance(value, list):
        if value and all(isinstance(item, Mapping) for item in value):
            return _structlog_stacks(value)
        return error_from_text("\n".join(map(str, value))) if value else None
    if not isinstance(value, Mapping) or not value:
        return None
    stack = (
        value.get("traceback") or value.get("stack") or value.get("stack_trace") or value.get("stacktrace")
    )
    traceback = _traceback_lines(stack)
    exc_type = value.get("type") or value.get("name") or value.get("kind") or value.get("exc_type")
    message = value.get("message") or value.get("msg") or value.get("value") or value.get("exc_value")
    if exc_type is None and isinstance(stack, str) and stack:
        parsed = error_from_text(stack)
        if parsed is not None:
            exc_type = parsed.type
            message = message if message is not None else parsed.message
    cause_value = value.get("cause")
    cause = error_from_object(cause_value) if cause_value else None
    return ErrorInfo(
        str(exc_type) if exc_type is not None else "Error",
        str(message) if message is not None else "",
        traceback,
        cause,
    )


def any_value(value: object) -> object:
    """The plain value of an OTLP ``AnyValue`` union (``{"stringValue": "x"}`` → ``"x"``)."""
    if not isinstance(value, Mapping):
        return value
    if len(value) != 1:
        return None if not value else dict(value)
    kind, inner = next(iter(value.items()))
    if kind == "intValue":
        try:
            return int(inner)
        except (TypeError, ValueError):
            return inner
    if kind == "arrayValue":
        return [any_value(v) for v in (inner or {}).get("values", ())] if isinstance(inner, Mapping) else []
    if kind == "kvlistValue":
        return _kv_list(inner.get("values", ()) if isinstance(inner, Mapping) else ())
    return inner


def _kv_list(items: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping) and isinstance(item.get("key"), str):
                out[item["key"]] = any_value(item.get("value"))
    return out


def is_otlp(obj: Mapping[str, Any]) -> bool:
    """True for an OTLP/JSON logs export line (``resourceLogs`` at the top)."""
    return isinstance(obj.get("resourceLogs"), list)


def otlp_records(obj: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """One flat mapping per ``logRecord`` of an OTLP/JSON export line, in order."""
    for resource_logs in obj.get("resourceLogs") or ():
        if not isinstance(resource_logs, Mapping):
            continue
        resource = resource_logs.get("resource")
        base = _kv_list(resource.get("attributes")) if isinstance(resource, Mapping) else {}
        for scope_logs in resource_logs.get("scopeLogs") or ():
            if not isinstance(scope_logs, Mapping):
                continue
            scope = scope_logs.get("scope")
            scope_name = scope.get("name") if isinstance(scope, Mapping) else None
            for rec in scope_logs.get("logRecords") or ():
                if isinstance(rec, Mapping):
                    yield _otlp_record(rec, base, scope_name)


def _otlp_record(rec: Mapping[str, Any], base: dict[str, Any], scope_name: object) -> dict[str, Any]:
    flat = dict(base)
    if scope_name:
        flat["otel.scope.name"] = scope_name
    flat.update(_kv_list(rec.get("attributes")))
    when = rec.get("timeUnixNano")
    if not when or when == "0":
        when = rec.get("observedTimeUnixNano")
    if isinstance(when, str) and when.isdigit():
        flat["time"] = int(when)
    elif isinstance(when, int | float):
        flat["time"] = when
    flat["severity_number"] = rec.get("severityNumber")
    flat["severity_text"] = rec.get("severityText")
    body = any_value(rec.get("body"))
    flat["body"] = body if body is not None else ""
    flat["trace_id"] = _otlp_id(rec.get("traceId"))
    flat["span_id"] = _otlp_id(rec.get("spanId"))
    if "flags" in rec:
        flat["flags"] = rec["flags"]
    return flat


def is_loguru(obj: Mapping[str, Any]) -> bool:
    """True for a loguru ``serialize=True`` line (``{"text": …, "record": {"level": …, "time": …}}``)."""
    record = obj.get("record")
    return isinstance(record, Mapping) and "level" in record and "time" in record and "text" in obj


def _name_of(value: object) -> object:
    return value.get("name") if isinstance(value, Mapping) else value


def loguru_flat(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The flat mapping of a loguru ``serialize=True`` line (see the module docstring)."""
    record: Mapping[str, Any] = obj["record"]
    flat: dict[str, Any] = {}
    extra = record.get("extra")
    if isinstance(extra, Mapping):
        flat.update(extra)
    when = record.get("time")
    flat["time"] = when.get("timestamp") if isinstance(when, Mapping) else when
    level = record.get("level")
    flat["level"] = level.get("name") if isinstance(level, Mapping) else level
    flat["message"] = record.get("message", "")
    for key, out in (("name", "logger"), ("module", "module"), ("function", "function"), ("line", "line")):
        if key in record:
            flat[out] = record[key]
    for key in ("file", "process", "thread"):
        if key in record:
            flat[key] = _name_of(record[key])
    exception = record.get("exception")
    if isinstance(exception, Mapping) and (exception.get("type") or exception.get("value")):
        text = obj.get("text")
        lines = str(text).rstrip("\n").split("\n")[1:] if text else []
        flat["error"] = {
            "type": exception.get("type") or "Error",
            "message": exception.get("value") or "",
            "traceback": lines,
        }
    return flat


def otel_console_flat(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten an OpenTelemetry console record: resource and record attributes merged at the top."""
    flat: dict[str, Any] = {}
    resource = obj.get("resource")
    if isinstance(resource, Mapping):
        attributes = resource.get("attributes")
        if isinstance(attributes, Mapping):
            flat.update(attributes)
    attributes = obj.get("attributes")
    if isinstance(attributes, Mapping):
        flat.update(attributes)
    for key, value in obj.items():
        if key not in ("attributes", "resource"):
            flat[key] = value
    return flat
