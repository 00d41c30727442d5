"""``setup_logging(ObservabilityConfig(...))``: console, rotating file and Loki in one idempotent call."""

from __future__ import annotations

import atexit
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO

from agent_tui.log.console import PrettyConsoleHandler
from agent_tui.log.formatter import JsonFormatter
from agent_tui.log.handlers import OWNED_ATTR, JsonlFileHandler, JsonStreamHandler
from agent_tui.log.logger import AgentLogger, install_logger_class
from agent_tui.log.loki import LokiHandler
from agent_tui.log.redact import DEFAULT_KEY_PATTERN, DEFAULT_VALUE_PATTERNS, Redactor
from agent_tui.log.rotation import RotatingJsonlHandler
from agent_tui.log.s3 import S3Uploader
from agent_tui.schema import Level

__all__ = ["NOISY_LOGGERS", "ObservabilityConfig", "configure_logging", "setup_logging"]

NOISY_LOGGERS = ("httpx", "httpcore", "websockets", "aiohttp", "urllib3", "asyncio")
"""Third-party loggers set to WARNING, as the seed does."""


@dataclass(frozen=True, slots=True)
class ObservabilityConfig:
    """Everything :func:`setup_logging` needs; only ``agent_id`` and ``service`` are required.

    Attributes:
        agent_id: who is logging; also the file name ``{log_dir}/{agent_id}.jsonl``.
        service: the service name written on every line and used as a Loki label.
        log_level: root level name (``DEBUG`` … ``CRITICAL``, also ``TRACE`` and ``NOTICE``).
        log_file: explicit JSONL path (rotating); wins over ``log_dir``.
        log_dir: directory for ``{agent_id}.jsonl`` (rotating).
        loki_url: Loki base URL (``http://host:3100``); enables the Loki handler.
        pretty_console: readable console lines (coloured on a TTY without ``NO_COLOR``) instead of JSON.
        console: write to the console at all.
        console_stream: the console stream (default ``sys.stdout``).
        redact: redact secrets (on by default).
        redact_keys: extra key names to redact.
        redact_key_pattern: regex for secret key names (snake_case form).
        redact_value_patterns: regexes for secret-looking values.
        max_bytes: rotate the file at this size.
        backup_count: rotated files kept.
        rotate_daily: also rotate at UTC midnight.
        compress: gzip rotated files in the background.
        loki_tenant: ``X-Scope-OrgID`` header.
        loki_token: bearer token for Loki.
        loki_basic_auth: ``(user, password)`` for Loki.
        loki_options: further keyword arguments for ``LokiHandler``.
        caller_info: collect ``pathname``/``lineno``/``funcName`` (slower; not written by the JSON formatter).
        quiet_loggers: loggers set to WARNING.
        s3_bucket: ship rotated files to this S3-compatible bucket in the background (needs a log file).
        s3_endpoint_url: S3 endpoint for MinIO/R2/others (default: AWS, or ``AWS_ENDPOINT_URL_S3``).
        s3_region: bucket region (default ``AWS_REGION`` or ``us-east-1``).
        s3_prefix: key prefix; objects land under ``{prefix}/{agent_id}/{YYYY-MM-DD}/``.
        s3_interval: seconds between shipping rounds.
        s3_options: further keyword arguments for :class:`agent_tui.log.s3.S3Uploader`.
    """

    agent_id: str
    service: str
    log_level: str = "INFO"
    log_file: str | None = None
    log_dir: str | None = None
    loki_url: str | None = None
    pretty_console: bool = False
    console: bool = True
    console_stream: IO[str] | None = None
    redact: bool = True
    redact_keys: tuple[str, ...] = ()
    redact_key_pattern: str = DEFAULT_KEY_PATTERN
    redact_value_patterns: tuple[str, ...] = DEFAULT_VALUE_PATTERNS
    max_bytes: int = 50 * 1024 * 1024
    backup_count: int = 10
    rotate_daily: bool = False
    compress: bool = False
    loki_tenant: str | None = None
    loki_token: str | None = None
    loki_basic_auth: tuple[str, str] | None = None
    loki_options: Mapping[str, object] = field(default_factory=dict)
    caller_info: bool = False
    quiet_loggers: Iterable[str] = NOISY_LOGGERS
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_prefix: str = "logs"
    s3_interval: float = 300.0
    s3_options: Mapping[str, object] = field(default_factory=dict)


class _Shipper:
    """The one background S3 uploader :func:`setup_logging` owns, replaced on every call."""

    uploader: S3Uploader | None = None

    @classmethod
    def replace(cls, uploader: S3Uploader | None) -> None:
        if cls.uploader is not None:
            cls.uploader.stop(timeout=5.0)
        cls.uploader = uploader

    @classmethod
    def stop_at_exit(cls) -> None:
        cls.replace(None)


atexit.register(_Shipper.stop_at_exit)


def _start_s3(config: ObservabilityConfig) -> S3Uploader | None:
    path = _file_path(config)
    if not config.s3_bucket:
        return None
    if path is None:
        raise ValueError("s3_bucket ships rotated log files: set log_dir or log_file too")
    uploader = S3Uploader(
        config.s3_bucket,
        endpoint_url=config.s3_endpoint_url,
        region=config.s3_region,
        prefix=config.s3_prefix,
        **config.s3_options,  # type: ignore[arg-type]
    )
    # Rotated siblings are named after the live file, so its stem plays the agent id's part.
    stem = os.path.basename(path).removesuffix(".jsonl")
    uploader.start_periodic(os.path.dirname(os.path.abspath(path)), stem, config.s3_interval)
    return uploader


def _level(name: str) -> int:
    try:
        return int(Level[name.strip().upper()])
    except KeyError:
        value = logging.getLevelName(name.strip().upper())
        if isinstance(value, int):
            return value
        raise ValueError(f"unknown log level {name!r}") from None


def _file_path(config: ObservabilityConfig) -> str | None:
    if config.log_file:
        return config.log_file
    if config.log_dir:
        return os.path.join(config.log_dir, f"{config.agent_id}.jsonl")
    return None


def _handlers(config: ObservabilityConfig, formatter: JsonFormatter) -> list[logging.Handler]:
    handlers: list[logging.Handler] = []
    if config.console:
        if config.pretty_console:
            stream = config.console_stream or sys.stdout
            handlers.append(PrettyConsoleHandler(config.agent_id, config.service, stream))
        else:
            handlers.append(JsonStreamHandler(config.console_stream, formatter))
    path = _file_path(config)
    if path:
        file_handler: JsonlFileHandler = RotatingJsonlHandler(
            path,
            formatter,
            max_bytes=config.max_bytes,
            backup_count=config.backup_count,
            when="daily" if config.rotate_daily else None,
            compress=config.compress,
        )
        handlers.append(file_handler)
    if config.loki_url:
        handlers.append(
            LokiHandler(
                config.loki_url,
                agent_id=config.agent_id,
                service=config.service,
                tenant_id=config.loki_tenant,
                bearer_token=config.loki_token,
                basic_auth=config.loki_basic_auth,
                formatter=formatter,
                **config.loki_options,  # type: ignore[arg-type]
            )
        )
    return handlers


def setup_logging(config: ObservabilityConfig) -> logging.Logger:
    """Configure the root logger for JSON lines with trace context; safe to call again.

    Handlers installed by an earlier call are closed and replaced; handlers anyone else added stay.
    Returns the logger named ``config.service`` and logs ``logging.configured`` on it.
    """
    level = _level(config.log_level)
    for lvl in (Level.TRACE, Level.NOTICE):
        logging.addLevelName(int(lvl), lvl.name)
    install_logger_class()
    AgentLogger.caller_info = config.caller_info
    redactor = Redactor(
        config.redact_key_pattern, config.redact_value_patterns, extra_keys=config.redact_keys
    )
    formatter = JsonFormatter(config.agent_id, config.service, redactor=redactor, redact=config.redact)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, OWNED_ATTR, False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for handler in _handlers(config, formatter):
        setattr(handler, OWNED_ATTR, True)
        root.addHandler(handler)
    _Shipper.replace(_start_s3(config))
    for name in config.quiet_loggers:
        logging.getLogger(name).setLevel(logging.WARNING)
    log = logging.getLogger(config.service)
    log.info(
        "logging.configured",
        extra={
            "log_level": config.log_level,
            "file_handler": _file_path(config) is not None,
            "loki_handler": config.loki_url is not None,
            "s3_shipping": config.s3_bucket is not None,
        },
    )
    return log


def configure_logging(
    agent_id: str, service: str, level: str = "INFO", *, log_dir: str | None = None
) -> logging.Logger:
    """The seed's one-liner: JSON to stdout (and ``{log_dir}/{agent_id}.jsonl`` when given)."""
    return setup_logging(ObservabilityConfig(agent_id, service, log_level=level, log_dir=log_dir))
