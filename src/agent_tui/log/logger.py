"""``AgentLogger``: a ``logging.Logger`` that builds records without walking the stack."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from types import FrameType, TracebackType
from typing import Any, Final, TypeAlias

from agent_tui.log.formatter import EXTRA_ATTR

__all__ = ["AgentLogger", "get_logger", "install_logger_class"]

_ExcInfo: TypeAlias = (
    bool
    | BaseException
    | tuple[type[BaseException], BaseException, TracebackType | None]
    | tuple[None, None, None]
    | None
)
_RESERVED: Final = frozenset(
    [*vars(logging.LogRecord("", 0, "", 0, "", None, None)), "message", "asctime", "taskName"]
)
_NO_FILE: Final = "(unknown file)"
_LEVEL_NAMES: Final = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
_new_record = object.__new__
_get_ident = threading.get_ident
_tls = threading.local()
_INTERNAL_FILES: Final = frozenset(os.path.normcase(f) for f in (logging.__file__, __file__))


def _thread_name() -> str | None:
    if not logging.logThreads:
        return None
    try:
        name: str = _tls.name
    except AttributeError:
        name = _tls.name = threading.current_thread().name
    return name


def _process_name() -> str | None:
    if not logging.logMultiprocessing:
        return None
    mp = sys.modules.get("multiprocessing")
    if mp is None:
        return "MainProcess"
    try:
        name: str = mp.current_process().name
    except Exception:
        return None
    return name


_process: dict[str, Any] = {}


def _refresh_process() -> None:
    _TEMPLATES.clear()
    _process.clear()
    _process.update(
        process=os.getpid() if logging.logProcesses else None,
        processName=_process_name(),
    )


_TEMPLATES: dict[str, dict[str, Any]] = {}


def _template(name: str) -> dict[str, Any]:
    """The constant part of every record of logger ``name``, in stdlib attribute order."""
    template = {
        "name": name,
        "msg": None,
        "args": None,
        "levelname": None,
        "levelno": 0,
        "pathname": _NO_FILE,
        "filename": _NO_FILE,
        "module": "Unknown module",
        "exc_info": None,
        "exc_text": None,
        "stack_info": None,
        "lineno": 0,
        "funcName": "(unknown function)",
        "created": 0.0,
        "msecs": 0.0,
        "relativeCreated": 0.0,
        "thread": None,
        "threadName": None,
        "processName": _process["processName"],
        "process": _process["process"],
        "taskName": None,
    }
    if len(_TEMPLATES) < 10_000:
        _TEMPLATES[name] = template
    return template


_refresh_process()
os.register_at_fork(after_in_child=_refresh_process)


class AgentLogger(logging.Logger):
    """A stdlib logger with a fast record path; records are ordinary ``LogRecord`` objects.

    Caller information (``pathname``, ``lineno``, ``funcName``) is not collected unless
    ``AgentLogger.caller_info`` is True or ``stack_info=True`` is passed, because walking the stack
    is the most expensive part of a stdlib logging call and the wire schema does not carry it.
    Thread names are read once per thread.
    """

    caller_info: bool = False

    # The level methods are spelt out (instead of inheriting ``**kwargs`` versions) because packing
    # and unpacking keyword arguments is a measurable share of a logging call.
    def debug(
        self,
        msg: object,
        *args: object,
        exc_info: _ExcInfo = None,
        extra: Mapping[str, object] | None = None,
        stack_info: bool = False,
        stacklevel: int = 1,
    ) -> None:
        """Log at DEBUG (stdlib signature)."""
        enabled = self._cache.get(10)  # type: ignore[attr-defined]
        if enabled is None:
            enabled = self.isEnabledFor(10)
        if enabled:
            self._log(10, msg, args, exc_info, extra, stack_info, stacklevel)

    def info(
        self,
        msg: object,
        *args: object,
        exc_info: _ExcInfo = None,
        extra: Mapping[str, object] | None = None,
        stack_info: bool = False,
        stacklevel: int = 1,
    ) -> None:
        """Log at INFO (stdlib signature)."""
        enabled = self._cache.get(20)  # type: ignore[attr-defined]
        if enabled is None:
            enabled = self.isEnabledFor(20)
        if enabled:
            self._log(20, msg, args, exc_info, extra, stack_info, stacklevel)

    def warning(
        self,
        msg: object,
        *args: object,
        exc_info: _ExcInfo = None,
        extra: Mapping[str, object] | None = None,
        stack_info: bool = False,
        stacklevel: int = 1,
    ) -> None:
        """Log at WARNING (stdlib signature)."""
        enabled = self._cache.get(30)  # type: ignore[attr-defined]
        if enabled is None:
            enabled = self.isEnabledFor(30)
        if enabled:
            self._log(30, msg, args, exc_info, extra, stack_info, stacklevel)

    def error(
        self,
        msg: object,
        *args: object,
        exc_info: _ExcInfo = None,
        extra: Mapping[str, object] | None = None,
        stack_info: bool = False,
        stacklevel: int = 1,
    ) -> None:
        """Log at ERROR (stdlib signature)."""
        enabled = self._cache.get(40)  # type: ignore[attr-defined]
        if enabled is None:
            enabled = self.isEnabledFor(40)
        if enabled:
            self._log(40, msg, args, exc_info, extra, stack_info, stacklevel)

    def findCaller(self, stack_info: bool = False, stacklevel: int = 1) -> tuple[str, int, str, str | None]:
        """The first frame outside ``logging`` and this module, ``stacklevel - 1`` frames further up."""
        frame: FrameType | None = sys._getframe(1)
        while frame is not None and os.path.normcase(frame.f_code.co_filename) in _INTERNAL_FILES:
            frame = frame.f_back
        while frame is not None and stacklevel > 1:
            frame, stacklevel = frame.f_back, stacklevel - 1
        if frame is None:
            return _NO_FILE, 0, "(unknown function)", None
        sinfo = None
        if stack_info:
            sinfo = "Stack (most recent call last):\n" + "".join(traceback.format_stack(frame)).rstrip("\n")
        code = frame.f_code
        return code.co_filename, frame.f_lineno, code.co_name, sinfo

    def _log(  # noqa: PLR0917 (stdlib signature)
        self,
        level: int,
        msg: object,
        args: Any,
        exc_info: _ExcInfo = None,
        extra: Mapping[str, object] | None = None,
        stack_info: bool = False,
        stacklevel: int = 1,
    ) -> None:
        if stack_info or AgentLogger.caller_info or logging.getLogRecordFactory() is not logging.LogRecord:
            super()._log(level, msg, args, exc_info, extra, stack_info, stacklevel)
            return
        if exc_info:
            if isinstance(exc_info, BaseException):
                exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
            elif not isinstance(exc_info, tuple):
                exc_info = sys.exc_info()
        now = time.time()
        if args and len(args) == 1 and isinstance(args[0], Mapping) and args[0]:
            args = args[0]
        template = _TEMPLATES.get(self.name)
        if template is None:
            template = _template(self.name)
        # Copying a prebuilt dict is much cheaper than building the record's 21 attributes one by one.
        d = template.copy()
        d["msg"] = msg
        d["args"] = args
        d["levelname"] = _LEVEL_NAMES.get(level) or logging.getLevelName(level)
        d["levelno"] = level
        d["exc_info"] = exc_info
        d["created"] = now
        d["msecs"] = (now - int(now)) * 1000
        d["relativeCreated"] = (now - _START) * 1000
        if logging.logThreads:
            d["thread"] = _get_ident()
            d["threadName"] = getattr(_tls, "name", None) or _thread_name()
        record = _new_record(logging.LogRecord)
        record.__dict__ = d
        if extra:
            if not extra.keys().isdisjoint(_RESERVED):
                bad = sorted(extra.keys() & _RESERVED)
                raise KeyError(f"Attempt to overwrite {bad[0]!r} in LogRecord")
            d.update(extra)
            d[EXTRA_ATTR] = extra
        if not self.disabled and (not self.filters or self.filter(record)):
            self.callHandlers(record)


_START: Final[float] = getattr(logging, "_startTime", time.time())


def install_logger_class() -> None:
    """Make ``logging.getLogger`` create :class:`AgentLogger` and upgrade existing plain loggers.

    Only loggers whose class is exactly ``logging.Logger`` are upgraded (``AgentLogger`` adds no state),
    so loggers of libraries that set their own logger class are left alone.
    """
    if logging.getLoggerClass() is logging.Logger:
        logging.setLoggerClass(AgentLogger)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if type(logger) is logging.Logger:
            logger.__class__ = AgentLogger


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``, upgraded to the fast :class:`AgentLogger` when it is a plain logger."""
    logger = logging.getLogger(name)
    if type(logger) is logging.Logger:
        logger.__class__ = AgentLogger
    return logger
