"""Per-record signals the flags are built from, picked out of a batch cheaply (key sets, event names)."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from itertools import accumulate, compress
from operator import not_
from typing import Any, Final, NamedTuple

from agent_tui.model.columns import Appended, AttrsOf
from agent_tui.schema import EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED, EVENT_TRACE_START, Level

__all__ = ["SIGNAL_READS", "Signal", "batch_signals", "call_fingerprint"]


class Signal(NamedTuple):
    """What one record says about retries, rate limits and repeated calls."""

    retry_key: str | None
    """The operation a retry or attempt counter belongs to (op or event, under its parent span)."""
    retried: bool
    """A retry warning, a rate-limit hit or an HTTP 429/503 record."""
    attempt: int
    """The record's ``attempt`` counter (0 when absent)."""
    rate_limit: bool
    """A rate-limit hit (HTTP 429, ``rate_limit`` / ``throttled`` events)."""
    call_key: str | None
    """For tool and LLM calls: event and tool/model; repeats of one key are checked for equal arguments."""
    agent: str | None


_RETRY_EVENT: Final = re.compile(r"retr(?:y|ies|ying)|rate.?limit|throttl|too.?many.?requests|backoff", re.I)
_RATE_EVENT: Final = re.compile(r"rate.?limit|throttl|too.?many.?requests", re.I)
_CALL_EVENT: Final = re.compile(r"tool|llm|gen_ai|completion|function.?call", re.I)
_STATUS_KEYS: Final = (
    "http_status",
    "status_code",
    "http.status_code",
    "http.response.status_code",
    "status",
)
_ATTEMPT_KEYS: Final = ("attempt", "attempts", "retry_count", "retries")
_TOOL_KEYS: Final = ("tool", "tool_name", "gen_ai.tool.name", "function")
_MODEL_KEYS: Final = ("gen_ai.request.model", "model", "llm.model")
_KEYS: Final = frozenset({*_STATUS_KEYS, *_ATTEMPT_KEYS, *_TOOL_KEYS, *_MODEL_KEYS})
SIGNAL_READS: Final = frozenset({*_KEYS, "agent_id"})
"""Every top-level key ``record_signal`` reads (a projection may decode only these)."""
_SPAN_LINES: Final = frozenset({EVENT_TRACE_START, EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED})
_NEEDLES: Final = re.compile(
    rb"(?i)retr|rate.?limit|throttl|too.?many|backoff|attempt|status|tool|model|llm|gen_ai|completion"
)
"""Every line that can carry a signal matches this, so lines that do not are never decoded."""
_SET_ASIDE: Final = re.compile(
    r"(?:^|[._])(?:id|ids|ts|time|timestamp|duration|latency|elapsed|attempt|attempts|retry_count|retries)"
    r"(?:$|_)|_ms$|_us$|_ns$|_s$|^@timestamp$|^level$|^logger$|^asctime$",
    re.I,
)
"""Ids, times, durations and attempt counters: set aside when comparing two calls' arguments."""


def _number(value: Any) -> int:
    return int(value) if type(value) in (int, float) else 0


def _status(attrs: Mapping[str, Any]) -> int:
    for key in _STATUS_KEYS:
        value = attrs.get(key)
        if type(value) is int:
            return value
        if type(value) is str and value.isdigit():
            return int(value)
    return 0


def _first(attrs: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if type(value) is str and value:
            return value
    return None


def record_signal(
    attrs: Mapping[str, Any], event: str, level: int, op: str | None, parent: str | None
) -> Signal | None:
    """The signal of one record, or None when it says nothing about retries or calls."""
    status = _status(attrs)
    attempt = max(
        _number(attrs.get("attempt")),
        _number(attrs.get("attempts")),
        _number(attrs.get("retries")) + 1 if "retries" in attrs else 0,
        _number(attrs.get("retry_count")) + 1 if "retry_count" in attrs else 0,
    )
    rate_limit = status == 429 or _RATE_EVENT.search(event) is not None
    retried = (
        rate_limit or status == 503 or (_RETRY_EVENT.search(event) is not None and level >= Level.WARNING)
    )
    if attempt and level >= Level.WARNING:
        retried = True
    retry_key = f"{op or event}\x00{parent or ''}" if retried or attempt else None
    call_key = None
    if event not in _SPAN_LINES:
        target = _first(attrs, _TOOL_KEYS) or _first(attrs, _MODEL_KEYS)
        if target is not None or _CALL_EVENT.search(event) is not None:
            call_key = f"{event}\x00{target or ''}"
    if retry_key is None and call_key is None and not rate_limit:
        return None
    agent = attrs.get("agent_id")
    return Signal(retry_key, retried, attempt, rate_limit, call_key, agent if type(agent) is str else None)


def call_fingerprint(attrs: Mapping[str, Any]) -> str:
    """A call's arguments: its attributes with ids, times, durations and attempt counters set aside."""
    kept = sorted((k, repr(v)) for k, v in attrs.items() if not _SET_ASIDE.search(k))
    return "\x1f".join(f"{k}={v}" for k, v in kept)


def _matching_lines(lines: Sequence[bytes]) -> list[int]:
    """Indices of lines matching the needles, found by one C-level scan of the joined batch."""
    blob = b"\n".join(lines)
    starts = list(accumulate(map((1).__add__, map(len, lines)), initial=0))
    hits: list[int] = []
    found = _NEEDLES.search(blob)
    while found is not None:
        i = bisect_right(starts, found.start()) - 1
        hits.append(i)
        found = _NEEDLES.search(blob, starts[i + 1])
    return hits


def _candidates(batch: Appended) -> list[int] | None:
    """Record indices whose decoded keys may carry a signal (None when some mapping was not kept)."""
    decoded = batch.attrs
    if not decoded:
        return None
    try:
        keyed = map(not_, map(_KEYS.isdisjoint, decoded))  # type: ignore[arg-type]
        return list(compress(range(len(decoded)), keyed))
    except TypeError:
        return None


def batch_signals(batch: Appended, attrs_of: AttrsOf | None, events: dict[str, bool]) -> dict[int, Signal]:
    """Signals by record index of one batch.

    Args:
        batch: the appended columns.
        attrs_of: decodes a line when the batch did not keep the mappings.
        events: a cache of event name → "may signal by its name alone", shared across batches.
    """
    names = batch.events
    for name in set(names).difference(events):
        events[name] = bool(_RETRY_EVENT.search(name) or _CALL_EVENT.search(name))
    picked = set(compress(range(len(names)), map(events.__getitem__, names)))
    keyed = _candidates(batch)
    if keyed is not None:
        picked.update(keyed)
    elif batch.lines and attrs_of is not None:
        wanted = set(_matching_lines(batch.lines))
        picked.update(k for k, i in enumerate(batch.line_index) if i in wanted)
    out: dict[int, Signal] = {}
    for k in sorted(picked):
        attrs = _attrs(batch, k, attrs_of)
        signal = record_signal(attrs, names[k], batch.levels[k], batch.ops[k], batch.parent_ids[k])
        if signal is not None:
            out[k] = signal
    return out


def _attrs(batch: Appended, k: int, attrs_of: AttrsOf | None) -> Mapping[str, Any]:
    attrs = batch.attrs[k] if batch.attrs else None
    if attrs is None and attrs_of is not None and batch.lines:
        index = batch.line_index[k]
        part = 0
        while k - part > 0 and batch.line_index[k - part - 1] == index:
            part += 1
        attrs = attrs_of(batch.lines[index], part)
    return attrs or {}
