"""Which fields a one-line rendering of a record already shows, so ``key=value`` need not repeat them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from agent_tui.model.parsing.formats.mapping import (
    ERROR_KEYS,
    LEVEL_ALIASES,
    MESSAGE_KEYS,
    PARENT_KEYS,
    SPAN_KEYS,
    TIME_KEYS,
    TRACE_KEYS,
)

__all__ = ["AGENT_KEYS", "agent_key", "shown_keys"]

AGENT_KEYS: Final = ("agent_id", "agent", "service", "logger", "name")
"""Where a one-line rendering looks for who wrote a record, in this order."""
_ID_KEYS: Final = frozenset((*TRACE_KEYS, *SPAN_KEYS, *PARENT_KEYS))
_FIRST_OF: Final = (TIME_KEYS, LEVEL_ALIASES, MESSAGE_KEYS)


def agent_key(attrs: Mapping[str, Any]) -> str | None:
    """The first of :data:`AGENT_KEYS` holding a non-empty string."""
    return next((key for key in AGENT_KEYS if isinstance(attrs.get(key), str) and attrs[key]), None)


def shown_keys(attrs: Mapping[str, Any], *, has_error: bool) -> set[str]:
    """Keys a one-line rendering already shows in another form, so ``key=value`` need not repeat them.

    The alias the time, level and message were read from (the first present, as the parser does:
    pino's ``time``, python-json-logger's ``asctime``/``levelname``), every trace/span id alias, the
    agent key, and the error fields when the record has a parsed error.
    """
    used = {key for key in _ID_KEYS if key in attrs}
    for keys in _FIRST_OF:
        used.add(next((key for key in keys if key in attrs), ""))
    used.add(agent_key(attrs) or "")
    if has_error:
        used.update(key for key in ERROR_KEYS if key in attrs)
    return used
