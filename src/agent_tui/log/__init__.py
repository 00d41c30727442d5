"""The logging library agents emit through: JSON formatter, trace context, rotating files, Loki."""

from __future__ import annotations

from agent_tui.log.context import (
    Binding,
    SpanScope,
    bind,
    bound_fields,
    current_op,
    current_parent_span_id,
    current_span_id,
    current_trace_id,
    from_traceparent,
    new_span_id,
    new_trace_id,
    span,
    trace,
    traceparent,
)
from agent_tui.log.filters import TraceContextFilter
from agent_tui.log.formatter import JsonFormatter, error_info, format_ts
from agent_tui.log.handlers import JsonlFileHandler, JsonStreamHandler
from agent_tui.log.logger import AgentLogger, get_logger, install_logger_class
from agent_tui.log.loki import LokiHandler, LokiStats
from agent_tui.log.redact import REDACTED, Redactor
from agent_tui.log.rotation import RotatingJsonlHandler, rotated_siblings
from agent_tui.log.setup import ObservabilityConfig, configure_logging, setup_logging

__all__ = [
    "REDACTED",
    "AgentLogger",
    "Binding",
    "JsonFormatter",
    "JsonStreamHandler",
    "JsonlFileHandler",
    "LokiHandler",
    "LokiStats",
    "ObservabilityConfig",
    "Redactor",
    "RotatingJsonlHandler",
    "SpanScope",
    "TraceContextFilter",
    "bind",
    "bound_fields",
    "configure_logging",
    "current_op",
    "current_parent_span_id",
    "current_span_id",
    "current_trace_id",
    "error_info",
    "format_ts",
    "from_traceparent",
    "get_logger",
    "install_logger_class",
    "new_span_id",
    "new_trace_id",
    "rotated_siblings",
    "setup_logging",
    "span",
    "trace",
    "traceparent",
]
