"""``TraceContextFilter``: puts the current trace fields on records so any handler can see them."""

from __future__ import annotations

import logging

from agent_tui.log.context import BOUND, PARENT_SPAN_ID, SPAN_ID, TRACE_ID

__all__ = ["TraceContextFilter"]


class TraceContextFilter(logging.Filter):
    """Adds ``trace_id``, ``span_id``, ``parent_span_id`` and bound fields to each record it sees.

    Our own handlers read the context directly; add this filter to third-party handlers (or loggers)
    whose formatters look at record attributes. Fields already on the record are never overwritten.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Inject the context and keep the record."""
        d = record.__dict__
        trace_id = TRACE_ID.get()
        if trace_id is not None:
            d.setdefault("trace_id", trace_id)
            d.setdefault("span_id", SPAN_ID.get())
            parent = PARENT_SPAN_ID.get()
            if parent is not None:
                d.setdefault("parent_span_id", parent)
        bound = BOUND.get()
        if bound:
            for key, value in bound.items():
                d.setdefault(key, value)
        return True
