"""Shared fixtures: restore global logging state after each test."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_tui.log import JsonFormatter, JsonlFileHandler, get_logger


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level, cls = list(root.handlers), root.level, logging.getLoggerClass()
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.setLoggerClass(cls)


class FileLog:
    """A logger writing through our formatter to a real file, with a reader for the written lines."""

    def __init__(self, path: Path, formatter: JsonFormatter, name: str) -> None:
        self.path = path
        self.handler = JsonlFileHandler(path, formatter)
        self.logger = get_logger(name)
        self.logger.handlers = [self.handler]
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)

    def lines(self) -> list[str]:
        return self.path.read_text().splitlines()


@pytest.fixture
def file_log(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FileLog]:
    log = FileLog(tmp_path / "a.jsonl", JsonFormatter("agent-1", "svc"), f"test.{request.node.name}")
    yield log
    log.handler.close()
    log.logger.handlers = []
