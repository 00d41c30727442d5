"""Per-record signals the flags are built from, picked out of a batch cheaply (key sets, event names).

Retry signals need a record's attributes (``attempt``, an HTTP status), so only the few records whose
event name or bytes suggest one are decoded. Tool and LLM calls are only *marked* here, by their event
name (``tool…``, ``llm…``, ``gen_ai…``, ``…completion``, ``function_call``): their arguments are compared
later, and only for calls that repeat.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from itertools import accumulate, compress
from operator import not_
from typing import Any, Final, NamedTuple

from agent_tui.model.parsing.columns import Appended, AttrsOf
from agent_tui.schema import EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED, EVENT_TRACE_START, Level

__all__ = [
    "RETRY_SPEC",
    "SIGNAL_READS",
    "Signal",
    "batch_signals",
    "call_fingerprint",
    "call_target",
    "retry_keyed",
    "retry_signal",
]


class Signal(NamedTuple):
    """What one record says about retries, rate limits and calls."""

    retry_key: str | None
    """The operation a retry or attempt counter belongs to (op or event, under its parent span)."""
    retried: bool
    """A retry warning, a rate-limit hit or an HTTP 429/503 record."""
    attempt: int
    """The record's attempt counter (0 when absent)."""
    rate_limit: bool
    """A rate-limit hit (HTTP 429, ``rate_limit`` / ``throttled`` events)."""
    call_key: str | None
    """For tool and LLM calls, the event: repeats of one are compared by their arguments."""
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
_COUNT_KEYS: Final = frozenset({"attempt", "attempts", "retries", "retry_count"})
_STATUS_SET: Final = frozenset(_STATUS_KEYS)
_RETRY_KEYS: Final = _COUNT_KEYS | _STATUS_SET
_TOOL_KEYS: Final = ("tool", "tool_name", "gen_ai.tool.name", "function")
_MODEL_KEYS: Final = ("gen_ai.request.model", "model", "llm.model")
RETRY_SPEC: Final = (tuple(sorted(_COUNT_KEYS)), _STATUS_KEYS)
"""What ``retry_keyed`` reads, for its compiled twin (``_rowscan.scan_side``): counter keys, then the
status keys in the order ``_status`` looks them up."""
SIGNAL_READS: Final = frozenset({*_RETRY_KEYS, "agent_id"})
"""Every top-level key ``retry_signal`` reads (a projection may decode only these)."""
_SPAN_LINES: Final = frozenset({EVENT_TRACE_START, EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED})
_RETRY_NEEDLES: Final = (b'"attempt', b'"retr')
"""Every line carrying an attempt or retry counter holds one of these (``bytes.find``, C speed)."""
_RETRY_STATUS: Final = re.compile(rb'status(?:_code)?" ?: ?"?(?:429|503)\b')
"""A 429/503 status under one of the status keys (the literal prefix keeps the scan fast)."""
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


def retry_keyed(attrs: Mapping[str, Any]) -> bool:
    """True when a record's attributes hold a retry counter or a 429/503 status (``_keyed``)."""
    return not _COUNT_KEYS.isdisjoint(attrs) or _status(attrs) in (429, 503)


def retry_signal(
    attrs: Mapping[str, Any], event: str, level: int, op: str | None, parent: str | None
) -> tuple[str | None, bool, int, bool, str | None]:
    """``(retry_key, retried, attempt, rate_limit, agent)`` of one record's attributes."""
    status = _status(attrs)
    attempt = max(
        _number(attrs.get("attempt")),
        _number(attrs.get("attempts")),
        _number(attrs.get("retries")) + 1 if "retries" in attrs else 0,
        _number(attrs.get("retry_count")) + 1 if "retry_count" in attrs else 0,
    )
    rate_limit = status == 429 or _RATE_EVENT.search(event) is not None
    warned = level >= Level.WARNING and (attempt > 0 or _RETRY_EVENT.search(event) is not None)
    retried = rate_limit or status == 503 or warned
    retry_key = f"{op or event}\x00{parent or ''}" if retried or attempt else None
    agent = attrs.get("agent_id")
    return retry_key, retried, attempt, rate_limit, agent if type(agent) is str else None


def call_target(attrs: Mapping[str, Any]) -> str:
    """The tool or model a call record names (empty when none)."""
    for key in (*_TOOL_KEYS, *_MODEL_KEYS):
        value = attrs.get(key)
        if type(value) is str and value:
            return value
    return ""


def call_fingerprint(attrs: Mapping[str, Any]) -> str:
    """A call's arguments: its attributes with ids, times, durations and attempt counters set aside."""
    aside = _aside
    if len(aside) > _ASIDE_CACHED:
        aside.clear()
    kept = []
    for k, v in attrs.items():
        skip = aside.get(k)
        if skip is None:
            skip = aside[k] = _SET_ASIDE.search(k) is not None
        if not skip:
            kept.append((k, repr(v)))
    kept.sort()
    return "\x1f".join(f"{k}={v}" for k, v in kept)


_aside: dict[str, bool] = {}
"""Whether ``_SET_ASIDE`` names a key, by key: calls repeat the same few keys (a regex search per key of
every call was a third of fingerprinting)."""
_ASIDE_CACHED: Final = 65536


def _matching_lines(lines: Sequence[bytes]) -> set[int]:
    """Indices of lines with a retry needle or a 429/503 status, found by C-level scans of the batch."""
    blob = b"\n".join(lines)
    starts = list(accumulate(map((1).__add__, map(len, lines)), initial=0))
    positions: list[int] = []
    find = blob.find
    for needle in _RETRY_NEEDLES:
        at = find(needle)
        while at >= 0:
            positions.append(at)
            at = find(needle, at + 1)
    positions.extend(found.start() for found in _RETRY_STATUS.finditer(blob))
    return {bisect_right(starts, at) - 1 for at in positions}


def _keyed(batch: Appended) -> set[int]:
    """Records with a retry counter or a 429/503 status: by their decoded keys, else by their line's bytes."""
    decoded = batch.attrs
    if decoded:
        try:
            every = range(len(decoded))
            counted = set(compress(every, map(not_, map(_COUNT_KEYS.isdisjoint, decoded))))  # type: ignore[arg-type]
            with_status = compress(every, map(not_, map(_STATUS_SET.isdisjoint, decoded)))  # type: ignore[arg-type]
        except TypeError:
            pass
        else:
            # Most statuses are 200s: only a 429/503 makes the record worth a look.
            return counted | {k for k in with_status if _status(decoded[k]) in (429, 503)}  # type: ignore[arg-type]
    if not batch.lines:
        return set()
    wanted = _matching_lines(batch.lines)
    if batch.one_per_line:
        return wanted
    return {k for k, i in enumerate(batch.line_index) if i in wanted}


def batch_signals(
    batch: Appended,
    attrs_of: AttrsOf | None,
    events: dict[str, tuple[bool, bool]],
    keyed: Mapping[int, Mapping[str, Any]] | None = None,
) -> dict[int, Signal]:
    """Signals by record index of one batch.

    Args:
        batch: the appended columns.
        attrs_of: decodes a line when the batch did not keep the mappings.
        events: a cache of event name → (may signal a retry, is a call) by its name, shared across batches.
        keyed: the attributes of the records ``retry_keyed`` holds true for, when already found (each
            record's line read once for sums and signals: ``_rowscan.scan_side``).
    """
    names = batch.events
    distinct = set(names)
    for name in distinct.difference(events):
        events[name] = _kinds(name)
    # A batch holds few distinct event names: their kinds are looked up once, then each line's name is
    # tested against the names of a kind (one C-level pass per kind, none when no name is of it).
    retry_names = {name for name in distinct if events[name][0]}
    call_names = {name for name in distinct if events[name][1]}
    every = range(len(names))
    retries = _among(every, names, retry_names) | (_keyed(batch) if keyed is None else keyed.keys())
    calls = _among(every, names, call_names)
    # Most signals are plain calls (a tool or LLM call, no retry): one shared Signal per event name,
    # picked for all of them at once (a loop building each was an eighth of a worker's time).
    only_calls = sorted(calls.difference(retries))
    made = map(_CALL_SIGNALS.__getitem__, map(names.__getitem__, only_calls))
    out = {k: signal for k, signal in zip(only_calls, made, strict=True) if signal is not None}
    for k in sorted(retries):
        event = names[k]
        call = event if k in calls and event not in _SPAN_LINES else None
        found = keyed.get(k) if keyed is not None else None
        key, retried, attempt, rate, agent = retry_signal(
            _attrs(batch, k, attrs_of) if found is None else found,
            event,
            batch.levels[k],
            batch.ops[k],
            batch.parent_ids[k],
        )
        if key is not None or rate or call is not None:
            out[k] = Signal(key, retried, attempt, rate, call, agent)
    # in record order, as the flags take them
    return dict(sorted(out.items())) if retries else out


def _among(every: range, names: Sequence[str], wanted: set[str]) -> set[int]:
    """Indices of the names in ``wanted``."""
    return set(compress(every, map(wanted.__contains__, names))) if wanted else set()


class _CallSignals(dict[str, Signal | None]):
    """The signal of a call record that is no retry, by its event name (None for span lines), made once."""

    def __missing__(self, event: str) -> Signal | None:
        signal = None if event in _SPAN_LINES else Signal(None, False, 0, False, event, None)
        if len(self) < _CALL_SIGNALS_KEPT:
            self[event] = signal
        return signal


_CALL_SIGNALS_KEPT: Final = 4096
"""Most call event names whose signal is kept (raw text lines may be call events that never repeat)."""
_CALL_SIGNALS: Final = _CallSignals()


def _kinds(name: str) -> tuple[bool, bool]:
    """(may signal a retry, is a call) by an event name."""
    if name.isascii():
        # Words without which the regexes cannot match: ``in`` is many times cheaper than a case-blind
        # regex, and plain-text lines are event names that never repeat. Only for ASCII names:
        # re.IGNORECASE also folds the dotless i, the long s and the Kelvin sign into ASCII letters.
        low = name.lower()
        retry = (
            "retr" in low or "rate" in low or "throttl" in low or "too" in low or "backoff" in low
        ) and _RETRY_EVENT.search(name) is not None
        call = (
            "tool" in low or "llm" in low or "gen_ai" in low or "completion" in low or "function" in low
        ) and _CALL_EVENT.search(name) is not None
        return retry, call
    return _RETRY_EVENT.search(name) is not None, _CALL_EVENT.search(name) is not None


def _attrs(batch: Appended, k: int, attrs_of: AttrsOf | None) -> Mapping[str, Any]:
    attrs = batch.attrs[k] if batch.attrs else None
    if attrs is None and attrs_of is not None and batch.lines:
        index = batch.line_index[k]
        part = 0
        while k - part > 0 and batch.line_index[k - part - 1] == index:
            part += 1
        attrs = attrs_of(batch.lines[index], part)
    return attrs or {}
