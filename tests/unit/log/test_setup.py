"""setup_logging / configure_logging: idempotent, files, pretty console, quiet loggers, capture."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import orjson
import pytest

from agent_tui.log import (
    AgentLogger,
    ObservabilityConfig,
    RotatingJsonlHandler,
    configure_logging,
    setup_logging,
)
from agent_tui.log.console import use_colour
from agent_tui.log.handlers import OWNED_ATTR
from agent_tui.log.testing import capture_records


def _ours() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if getattr(h, OWNED_ATTR, False)]


def test_setup_twice_does_not_duplicate_handlers(tmp_path: Path) -> None:
    """A second setup_logging replaces its own handlers and leaves foreign handlers alone."""
    foreign = logging.NullHandler()
    logging.getLogger().addHandler(foreign)
    config = ObservabilityConfig("a1", "svc", log_dir=str(tmp_path), console_stream=io.StringIO())
    setup_logging(config)
    setup_logging(config)
    assert len(_ours()) == 2
    assert foreign in logging.getLogger().handlers
    logging.getLogger("svc").info("once")
    lines = (tmp_path / "a1.jsonl").read_text().splitlines()
    assert [orjson.loads(line)["event"] for line in lines].count("once") == 1


def test_setup_returns_service_logger_and_logs_configured(tmp_path: Path) -> None:
    """setup_logging returns the service logger (fast AgentLogger) and logs logging.configured."""
    stream = io.StringIO()
    log = setup_logging(ObservabilityConfig("a1", "casino-agent", log_level="DEBUG", console_stream=stream))
    assert log.name == "casino-agent"
    assert isinstance(log, AgentLogger)
    first = orjson.loads(stream.getvalue().splitlines()[0])
    assert first["event"] == "logging.configured"
    assert first["file_handler"] is False
    assert logging.getLogger("aiohttp").level == logging.WARNING
    assert logging.getLogger().level == logging.DEBUG


def test_log_file_uses_rotating_handler(tmp_path: Path) -> None:
    """log_file gives a rotating JSONL handler at exactly that path."""
    path = tmp_path / "sub" / "x.jsonl"
    setup_logging(ObservabilityConfig("a1", "svc", log_file=str(path), console=False, max_bytes=1234))
    handler = next(h for h in _ours() if isinstance(h, RotatingJsonlHandler))
    assert handler.path == str(path)
    assert handler.max_bytes == 1234


def test_configure_logging_like_the_seed(capsys: pytest.CaptureFixture[str]) -> None:
    """configure_logging(agent_id, service, level) writes JSON lines to stdout."""
    log = configure_logging("dice-agent-001", "casino-agent", "WARNING")
    log.info("hidden")
    log.warning("shown")
    out = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["event"] for o in out] == ["shown"]
    assert out[0]["agent_id"] == "dice-agent-001"


def test_unknown_level_is_a_clear_error() -> None:
    """A misspelt level name raises ValueError naming it."""
    with pytest.raises(ValueError, match="LOUD"):
        setup_logging(ObservabilityConfig("a", "s", log_level="LOUD", console=False))


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_pretty_console_colours_only_on_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    """pretty_console writes readable lines, coloured on a TTY, plain with NO_COLOR or a pipe."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = _Tty()
    setup_logging(ObservabilityConfig("a", "svc", pretty_console=True, console_stream=tty))
    try:
        raise TimeoutError("slow\x1b[31m")
    except TimeoutError:
        logging.getLogger("svc").exception("bet.failed", extra={"amount_usdc": 5})
    text = tty.getvalue()
    assert "\x1b[31mERROR" in text
    assert "bet.failed amount_usdc=5" in text
    assert "TimeoutError: slow\\x1b[31m" in text
    pipe = io.StringIO()
    setup_logging(ObservabilityConfig("a", "svc", pretty_console=True, console_stream=pipe))
    logging.getLogger("svc").info("plain")
    assert "\x1b" not in pipe.getvalue()
    assert "INFO     svc plain" in pipe.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_colour(_Tty()) is False


def test_capture_records_returns_written_dicts() -> None:
    """capture_records yields the redacted dicts the formatter writes."""
    with capture_records() as records:
        logging.getLogger("t").info("e", extra={"password": "p", "n": 1})
    assert records[0]["event"] == "e"
    assert records[0]["password"] == "[REDACTED]"
    assert records[0]["n"] == 1


def test_fast_records_work_with_stdlib_formatters() -> None:
    """Records from the fast AgentLogger path carry every attribute a stdlib format string can name."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(name)s %(levelname)s %(threadName)s %(process)d %(module)s %(lineno)d %(message)s"
        )
    )
    log = logging.getLogger("fast.compat")
    log.__class__ = AgentLogger
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    log.info("hello %s", "world", extra={"k": 1})
    line = stream.getvalue()
    assert "fast.compat INFO MainThread" in line
    assert line.rstrip().endswith("hello world")


def test_caller_info_points_at_the_callers_line() -> None:
    """With caller_info the record names the calling function and line, through the fast level methods."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    log = AgentLogger("caller.info", logging.INFO)
    log.addHandler(Keep())
    AgentLogger.caller_info = True
    try:
        log.info("here")
        expected_line = sys._getframe().f_lineno - 1
        log.warning("stack", stack_info=True)
    finally:
        AgentLogger.caller_info = False
    log.info("fast")
    assert (seen[0].funcName, seen[0].lineno) == (
        "test_caller_info_points_at_the_callers_line",
        expected_line,
    )
    assert seen[0].filename == "test_setup.py"
    assert (
        seen[1].stack_info is not None and "test_caller_info_points_at_the_callers_line" in seen[1].stack_info
    )
    assert seen[2].lineno == 0
