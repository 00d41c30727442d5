"""Helpers for users' tests: capture what the JSON formatter would have written."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from agent_tui.log.formatter import JsonFormatter

__all__ = ["CapturingHandler", "capture_records"]


class CapturingHandler(logging.Handler):
    """Keeps each record as the dict the formatter would have written (after redaction)."""

    def __init__(self, formatter: JsonFormatter) -> None:
        """Capture with ``formatter``."""
        super().__init__(logging.NOTSET)
        self.json = formatter
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Decode the formatted line back into a dict and keep it."""
        self.records.append(orjson.loads(self.json.format_bytes(record)))


def _current_formatter() -> JsonFormatter | None:
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, JsonFormatter):
            return handler.formatter
    return None


@contextmanager
def capture_records(
    level: int = logging.DEBUG, *, formatter: JsonFormatter | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Collect the JSON objects logged (through the root logger) inside the ``with`` block.

    Args:
        level: the root level while capturing (restored afterwards).
        formatter: the formatter to render with; defaults to the one ``setup_logging`` installed, else
            a fresh :class:`JsonFormatter`.

    Yields:
        The list the records are appended to, in order.
    """
    handler = CapturingHandler(formatter or _current_formatter() or JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
