"""What other log libraries write: level spellings, id forms, error shapes, nested envelopes and alias tables.

``shapes`` flattens nested formats and reads levels, ids and errors; ``mapping`` holds the DESIGN §5 alias
tables and the per-key-set plans of the hot path; ``columns`` maps whole batches column by column.
"""

from __future__ import annotations

from agent_tui.model.parsing.formats.shapes import (
    any_value,
    error_from_object,
    error_from_text,
    is_loguru,
    is_otlp,
    level_of,
    loguru_flat,
    normalise_id,
    otel_console_flat,
    otlp_records,
)

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
