"""µs per log.info("bet.placed", extra={8 fields}) to a file: ours vs seed, python-json-logger, structlog."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC
from pathlib import Path
from typing import Any

import orjson
import structlog
from pythonjsonlogger.json import JsonFormatter as PjlFormatter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


from agent_tui.log import ObservabilityConfig, setup_logging  # noqa: E402

EXTRA = {
    "bet_id": "bet_4b8c1a3e",
    "game": "dice",
    "amount_usdc": 10.0,
    "prediction": "over",
    "target": 50,
    "roll": 73,
    "outcome": "win",
    "payout_usdc": 19.8,
}
N = 10_000
ROUNDS = 5


# --- the seed's logger.py / trace.py, verbatim apart from imports --------------------------------
class SeedJSONFormatter(logging.Formatter):
    def __init__(self, agent_id: str, service: str):
        super().__init__()
        self.agent_id = agent_id
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        log_obj: dict[str, Any] = {
            "ts": self._format_ts(record.created),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            "agent_id": self.agent_id,
            "service": self.service,
            "logger": record.name,
        }
        for key, val in record.__dict__.items():
            if key not in {
                "msg", "args", "levelname", "levelno", "pathname", "filename",
                "module", "exc_info", "exc_text", "stack_info", "lineno",
                "funcName", "created", "msecs", "relativeCreated",
                "thread", "threadName", "processName", "process", "name", "message",
            }:  # fmt: skip
                log_obj[key] = val
        if record.exc_info:
            log_obj["error"] = {
                "type": record.exc_info[0].__name__,  # type: ignore[union-attr]
                "message": str(record.exc_info[1]),
                "traceback": traceback.format_exception(*record.exc_info),
            }
        return json.dumps(log_obj, default=str)

    def _format_ts(self, created: float) -> str:
        from datetime import datetime

        dt = datetime.fromtimestamp(created, tz=UTC)
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_trace_id: ContextVar[str | None] = ContextVar("trace_id", default=None)
_operation: ContextVar[str | None] = ContextVar("operation", default=None)


class SeedTraceInjector(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = _trace_id.get()
        record.operation = _operation.get()
        return True


# -------------------------------------------------------------------------------------------------


def _plain_logger(name: str, handler: logging.Handler) -> logging.Logger:
    logger = logging.Logger(name, logging.INFO)
    logger.addHandler(handler)
    return logger


def build(tmp: Path) -> dict[str, Callable[[], None]]:
    seed_handler = logging.handlers.RotatingFileHandler(
        tmp / "seed.jsonl", maxBytes=50 * 1024 * 1024, backupCount=10, encoding="utf-8"
    )
    seed_handler.setFormatter(SeedJSONFormatter("a1", "agent"))
    seed_handler.addFilter(SeedTraceInjector())
    seed = _plain_logger("seed", seed_handler)

    seed_file_handler = logging.FileHandler(tmp / "seed-plain.jsonl")
    seed_file_handler.setFormatter(SeedJSONFormatter("a1", "agent"))
    seed_file_handler.addFilter(SeedTraceInjector())
    seed_file = _plain_logger("seed.file", seed_file_handler)

    pjl_handler = logging.FileHandler(tmp / "pjl.jsonl")
    pjl_handler.setFormatter(PjlFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    pjl = _plain_logger("pjl", pjl_handler)

    plain_handler = logging.FileHandler(tmp / "plain.log")
    plain = _plain_logger("plain", plain_handler)

    slog_file = (tmp / "structlog.jsonl").open("wb")
    slog = structlog.wrap_logger(
        structlog.BytesLogger(slog_file),
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=True,
    )

    setup_logging(ObservabilityConfig("a1", "agent", log_dir=str(tmp / "ours"), console=False))
    ours = logging.getLogger("casino")

    return {
        "agent_tui.log": lambda: ours.info("bet.placed", extra=EXTRA),
        "structlog + orjson": lambda: slog.info("bet.placed", **EXTRA),
        "stdlib plain text": lambda: plain.info("bet.placed", extra=EXTRA),
        "python-json-logger": lambda: pjl.info("bet.placed", extra=EXTRA),
        "seed (FileHandler)": lambda: seed_file.info("bet.placed", extra=EXTRA),
        "seed (RotatingFH)": lambda: seed.info("bet.placed", extra=EXTRA),
    }


SEED_QUIET_US = 20.5
"""The seed's formatter per call on this machine when it was quiet (the lead's measurement)."""


def seed_us(n: int = 5_000, rounds: int = 5) -> float:
    """µs per seed JSONFormatter call to a file right now: a load calibration for absolute targets."""
    with tempfile.TemporaryDirectory() as tmp:
        handler = logging.FileHandler(Path(tmp) / "seed.jsonl")
        handler.setFormatter(SeedJSONFormatter("a1", "agent"))
        handler.addFilter(SeedTraceInjector())
        seed = _plain_logger("seed.calibration", handler)
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(n):
                seed.info("bet.placed", extra=EXTRA)
            best = min(best, (time.perf_counter() - started) / n * 1e6)
        handler.close()
        return best


def measure(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    for _ in range(N):
        fn()
    return (time.perf_counter() - started) / N * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        variants = build(Path(tmp))
        best = dict.fromkeys(variants, float("inf"))
        for _ in range(ROUNDS):
            for name, fn in variants.items():
                best[name] = min(best[name], measure(fn))
        ours = best["agent_tui.log"]
        print(f"{'writer':<22} {'µs/call':>9} {'ours ÷ it':>10}")
        for name, value in best.items():
            print(f"{name:<22} {value:>9.2f} {ours / value:>10.2f}")
        seed_ratio = ours / best["seed (FileHandler)"]
        struct_ratio = ours / best["structlog + orjson"]
        seed_ok = "ok" if seed_ratio <= 0.5 else "MISSED"
        struct_ok = "ok" if struct_ratio <= 1.0 else "MISSED"
        print(f"\ntarget ≤ 0.50 × seed (its JSONFormatter on a FileHandler): {seed_ratio:.2f} {seed_ok}")
        print(f"target ≤ 1.00 × structlog + orjson: {struct_ratio:.2f} {struct_ok}")
        print(f"load average {os.getloadavg()[0]:.1f}; rounds interleave the writers so load hits all alike")
        logging.shutdown()


if __name__ == "__main__":
    main()
