"""Trace context: one ContextVar per key, ``trace``/``span`` scopes, ``bind``, W3C ``traceparent``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, Final, TypeVar, cast

from agent_tui.schema import EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED, EVENT_TRACE_START

__all__ = [
    "Binding",
    "SpanScope",
    "bind",
    "bound_fields",
    "current_op",
    "current_parent_span_id",
    "current_span_id",
    "current_trace_id",
    "from_traceparent",
    "new_span_id",
    "new_trace_id",
    "span",
    "trace",
    "traceparent",
    "use_id_source",
]

TRACE_ID: ContextVar[str | None] = ContextVar("agent_tui.trace_id", default=None)
SPAN_ID: ContextVar[str | None] = ContextVar("agent_tui.span_id", default=None)
PARENT_SPAN_ID: ContextVar[str | None] = ContextVar("agent_tui.parent_span_id", default=None)
OP: ContextVar[str | None] = ContextVar("agent_tui.op", default=None)
BOUND: ContextVar[Mapping[str, Any] | None] = ContextVar("agent_tui.bound", default=None)
ID_SOURCE: ContextVar[random.Random | None] = ContextVar("agent_tui.id_source", default=None)

_F = TypeVar("_F", bound=Callable[..., Any])
_TRACEPARENT: Final = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$")
_W3C_TRACE: Final = re.compile(r"^[0-9a-f]{32}$")
_LOGGED_MARK: Final = "__agent_tui_failed_span__"


def new_trace_id() -> str:
    """A random W3C trace id: 32 lowercase hex digits (from :func:`use_id_source`'s generator if set)."""
    rng = ID_SOURCE.get()
    return os.urandom(16).hex() if rng is None else f"{rng.getrandbits(128):032x}"


def new_span_id() -> str:
    """A random W3C span id: 16 lowercase hex digits (from :func:`use_id_source`'s generator if set)."""
    rng = ID_SOURCE.get()
    return os.urandom(8).hex() if rng is None else f"{rng.getrandbits(64):016x}"


def use_id_source(rng: random.Random | None) -> Token[random.Random | None]:
    """Draw trace and span ids from ``rng`` in this context (reproducible ids for demos and tests).

    Returns the token to pass to ``ID_SOURCE.reset``; None restores OS randomness.
    """
    return ID_SOURCE.set(rng)


def current_trace_id() -> str | None:
    """The trace id of the innermost active trace, or None outside any trace."""
    return TRACE_ID.get()


def current_span_id() -> str | None:
    """The span id of the innermost active span, or None."""
    return SPAN_ID.get()


def current_parent_span_id() -> str | None:
    """The parent span id of the innermost active span, or None for a root span."""
    return PARENT_SPAN_ID.get()


def current_op() -> str | None:
    """The operation name of the innermost active span, or None."""
    return OP.get()


def bound_fields() -> Mapping[str, Any]:
    """The fields currently bound with :func:`bind` (empty mapping when none)."""
    return BOUND.get() or {}


def traceparent() -> str | None:
    """The W3C ``traceparent`` header for the current span, or None (no span, or a non-W3C trace id)."""
    trace_id, span_id = TRACE_ID.get(), SPAN_ID.get()
    if trace_id is None or span_id is None or not _W3C_TRACE.match(trace_id):
        return None
    return f"00-{trace_id}-{span_id}-01"


def from_traceparent(header: str) -> tuple[str, str] | None:
    """Parse a W3C ``traceparent`` header into ``(trace_id, parent_span_id)``; None when invalid."""
    match = _TRACEPARENT.match(header.strip().lower())
    if match is None:
        return None
    version, trace_id, span_id, _flags = match.groups()
    if version == "ff" or trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    if version == "00" and len(header.strip()) != 55:
        return None
    return trace_id, span_id


class Binding:
    """Fields bound to the current context by :func:`bind`; a context manager or a token to ``reset()``."""

    __slots__ = ("_token",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        merged = dict(BOUND.get() or {})
        merged.update(fields)
        self._token: Token[Mapping[str, Any] | None] | None = BOUND.set(merged)

    def reset(self) -> None:
        """Restore the fields bound before this binding (idempotent)."""
        if self._token is not None:
            BOUND.reset(self._token)
            self._token = None

    def __enter__(self) -> Binding:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.reset()

    async def __aenter__(self) -> Binding:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.reset()


def bind(**fields: Any) -> Binding:
    """Add ``fields`` to every record logged in this context until the binding is reset.

    Usable as ``with bind(user="u1"): ...`` or ``token = bind(...); ...; token.reset()``.
    """
    return Binding(fields)


class SpanScope:
    """One span: a sync/async context manager and a decorator that logs start, complete and failed lines."""

    __slots__ = (
        "_logger",
        "_op",
        "_parent_override",
        "_started",
        "_tokens",
        "_trace_override",
        "span_id",
        "trace_id",
    )

    def __init__(
        self,
        op: str,
        *,
        trace_id: str | None = None,
        parent_span_id: str | None = None,
        logger: logging.Logger | str | None = None,
    ) -> None:
        self._op = op
        self._trace_override = trace_id
        self._parent_override = parent_span_id
        self._logger = logger
        self._tokens: tuple[Token[str | None], ...] = ()
        self._started = 0.0
        self.trace_id: str = ""
        self.span_id: str = ""

    def _log(self) -> logging.Logger:
        logger = self._logger
        if isinstance(logger, logging.Logger):
            return logger
        return logging.getLogger(logger or self._op)

    def _clone(self) -> SpanScope:
        return SpanScope(
            self._op, trace_id=self._trace_override, parent_span_id=self._parent_override, logger=self._logger
        )

    def __enter__(self) -> str:
        current = TRACE_ID.get()
        if self._trace_override is not None:
            trace_id, parent = self._trace_override, self._parent_override
            if trace_id == current and parent is None:
                parent = SPAN_ID.get()
        elif current is not None:
            trace_id, parent = current, SPAN_ID.get()
        else:
            trace_id, parent = new_trace_id(), self._parent_override
        self.trace_id, self.span_id = trace_id, new_span_id()
        self._tokens = (
            TRACE_ID.set(trace_id),
            SPAN_ID.set(self.span_id),
            PARENT_SPAN_ID.set(parent),
            OP.set(self._op),
        )
        self._log().info(EVENT_TRACE_START, extra={"op": self._op})
        self._started = time.perf_counter()
        return trace_id

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        duration_ms = round((time.perf_counter() - self._started) * 1000, 3)
        try:
            log = self._log()
            if exc is None:
                log.info(EVENT_TRACE_COMPLETE, extra={"op": self._op, "duration_ms": duration_ms})
            else:
                self._log_failure(log, exc, duration_ms)
        finally:
            tokens, self._tokens = self._tokens, ()
            for var, token in zip((TRACE_ID, SPAN_ID, PARENT_SPAN_ID, OP), tokens, strict=True):
                var.reset(token)

    def _log_failure(self, log: logging.Logger, exc: BaseException, duration_ms: float) -> None:
        extra: dict[str, Any] = {"op": self._op, "duration_ms": duration_ms}
        if isinstance(exc, asyncio.CancelledError | GeneratorExit | KeyboardInterrupt | SystemExit):
            extra["cancelled"] = type(exc).__name__
            log.warning(EVENT_TRACE_FAILED, extra=extra)
            return
        first = getattr(exc, _LOGGED_MARK, None)
        if first is not None:
            # The inner span it escaped from already logged the error with its traceback: this span
            # only records that it ended by it (a warning, so one exception counts as one error line).
            extra["error_span_id"] = first
            extra["error_type"] = type(exc).__name__
            log.warning(EVENT_TRACE_FAILED, extra=extra)
            return
        with contextlib.suppress(AttributeError, TypeError):
            setattr(exc, _LOGGED_MARK, self.span_id)
        log.error(EVENT_TRACE_FAILED, exc_info=exc, extra=extra)

    async def __aenter__(self) -> str:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, func: _F) -> _F:
        """Decorate a sync or async function so every call runs in its own span."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self._clone():
                    return await func(*args, **kwargs)

            return cast(_F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._clone():
                return func(*args, **kwargs)

        return cast(_F, wrapper)


def trace(
    op: str,
    trace_id: str | None = None,
    *,
    traceparent: str | None = None,
    logger: logging.Logger | str | None = None,
) -> SpanScope:
    """Open a trace (or a child span when one is already active) named ``op``.

    Args:
        op: the operation name written as ``op`` on the span lines (``casino.place_bet``).
        trace_id: use this trace id instead of a new one (the seed's ``trace(op, trace_id=...)``).
        traceparent: continue a remote trace from a W3C ``traceparent`` header; invalid headers are ignored.
        logger: logger (or its name) for the span lines; defaults to the logger named ``op``.

    Returns:
        A scope usable as ``with``, ``async with`` (both yield the trace id) or as a decorator.
    """
    parent: str | None = None
    if traceparent is not None:
        parsed = from_traceparent(traceparent)
        if parsed is not None:
            trace_id, parent = parsed
    return SpanScope(op, trace_id=trace_id, parent_span_id=parent, logger=logger)


def span(op: str, *, logger: logging.Logger | str | None = None) -> SpanScope:
    """Open a span named ``op`` inside the current trace (or a new trace when none is active)."""
    return SpanScope(op, logger=logger)
