"""The wire schema's level names and their order."""

from __future__ import annotations

import pytest

from agent_tui.schema import LEVEL_NAMES, Level, level_from_number, parse_level


def test_level_order_matches_the_contract() -> None:
    """Levels sort trace < debug < info < notice < warning < error < critical."""
    assert LEVEL_NAMES == ("trace", "debug", "info", "notice", "warning", "error", "critical")
    assert sorted(Level) == list(Level)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("WARN", Level.WARNING),
        ("warning", Level.WARNING),
        ("crit", Level.CRITICAL),
        ("FATAL", Level.CRITICAL),
        ("emerg", Level.CRITICAL),
        ("alert", Level.CRITICAL),
        ("SUCCESS", Level.NOTICE),
        ("silly", Level.TRACE),
        ("http", Level.INFO),
        ("verbose", Level.DEBUG),
        (30, Level.INFO),
        (60, Level.CRITICAL),
        (10, Level.TRACE),
        (9, Level.INFO),
        (17, Level.ERROR),
        (21, Level.CRITICAL),
        ("50", Level.ERROR),
        ("nonsense", None),
        (True, None),
        (None, None),
    ],
)
def test_parse_level_across_formats(raw: object, expected: Level | None) -> None:
    """Names in any case and pino/bunyan/OTel numbers map to one severity scale."""
    assert parse_level(raw) == expected


def test_syslog_priorities() -> None:
    """journald PRIORITY 0–7 maps emerg..debug."""
    assert [level_from_number(p, "syslog") for p in range(8)] == [
        Level.CRITICAL,
        Level.CRITICAL,
        Level.CRITICAL,
        Level.ERROR,
        Level.WARNING,
        Level.NOTICE,
        Level.INFO,
        Level.DEBUG,
    ]
    assert level_from_number(8, "syslog") is None
