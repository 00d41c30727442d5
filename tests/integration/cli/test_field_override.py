"""``--field ROLE=KEY`` on every command: the named key is read for the role, and no fast path ignores it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli.helpers import custom_log, run


def _amounts(stdout: bytes) -> list[int]:
    return [json.loads(line)["amount"] for line in stdout.splitlines()]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """The custom-keyed log in a directory of its own."""
    return custom_log(tmp_path / "custom.jsonl")


def test_query_level_filter_reads_the_overridden_key(log: Path) -> None:
    """level >= error keeps the sev=ERROR lines; without --field the decoy level finds none."""
    result = run("query", "--field", "level=sev", "level >= error", str(log))
    assert result.returncode == 0
    assert _amounts(result.stdout) == [0, 5, 10, 15]
    assert run("query", "level >= error", str(log)).returncode == 1


def test_query_attribute_and_level_filter_steps_off_the_lazy_path(log: Path) -> None:
    """A filter on an attribute and the level (the lazy strategy's case) uses the overridden level."""
    result = run("query", "level >= error and amount > 5", str(log), "--field", "level=sev")
    assert _amounts(result.stdout) == [10, 15]


def test_query_event_and_count(log: Path) -> None:
    """--field event=text makes event == "step.7" match (the decoy event does not), also with --count."""
    assert _amounts(run("query", "--field", "event=text", 'event == "step.7"', str(log)).stdout) == [7]
    counted = run("query", "--count", "--field", "msg=text", 'event startswith "step."', str(log))
    assert counted.stdout == b"20\n"
    assert run("query", 'event == "step.7"', str(log)).returncode == 1


def test_query_trace_scope_groups_by_the_overridden_trace_key(log: Path) -> None:
    """trace:(amount == 5) prints every line whose tid is t1, the trace of amount 5."""
    result = run("query", "--field", "trace_id=tid", "trace:(amount == 5)", str(log))
    assert _amounts(result.stdout) == [1, 5, 9, 13, 17]


def test_query_pretty_shows_the_overridden_level_and_message(log: Path) -> None:
    """--format pretty renders the level from sev and the message from text."""
    result = run(
        "query",
        "--format",
        "pretty",
        "--field",
        "level=sev",
        "--field",
        "event=text",
        "amount == 5",
        str(log),
    )
    (shown,) = result.stdout.decode().splitlines()
    assert "step.5" in shown and "ERR" in shown


def test_trace_finds_records_by_the_overridden_trace_key(log: Path) -> None:
    """trace t2 --field trace_id=tid lists the 5 records of t2; without --field there is no such trace."""
    result = run("trace", "t2", str(log), "--json", "--field", "trace_id=tid", "--field", "level=sev")
    data = json.loads(result.stdout)
    assert result.returncode == 0
    assert data["record_count"] == 5 and data["error_count"] == 1  # amount 10 is sev=ERROR
    assert run("trace", "t2", str(log)).returncode == 1


def test_stats_counts_levels_from_the_overridden_key(log: Path) -> None:
    """stats --field level=sev counts 4 errors and 16 infos (the decoy says 20 infos)."""
    data = json.loads(run("stats", "--json", "--field", "level=sev", str(log)).stdout)
    assert (data["levels"]["error"], data["levels"]["info"]) == (4, 16)
    plain = json.loads(run("stats", "--json", str(log)).stdout)
    assert (plain["levels"]["error"], plain["levels"]["info"]) == (0, 20)


def test_serve_filters_with_the_overridden_key(log: Path) -> None:
    """serve --stdio --filter 'level >= error' --field level=sev sends only the 4 sev=ERROR records."""
    result = run("serve", str(log.parent), "--stdio", "--filter", "level >= error", "--field", "level=sev")
    assert result.returncode == 0
    records = [obj["line"] for obj in map(json.loads, result.stdout.splitlines()) if "line" in obj]
    assert [record["amount"] for record in records] == [0, 5, 10, 15]


@pytest.mark.parametrize(
    "command",
    [
        ["query", "level >= error"],
        ["trace", "t1"],
        ["stats"],
        ["serve", "--stdio"],
        [],
    ],
)
@pytest.mark.parametrize(
    ("spec", "message"),
    [("colour=sev", b"unknown field role 'colour'"), ("level", b"--field wants ROLE=KEY")],
)
def test_bad_field_is_a_clear_error_and_exit_2(
    log: Path, command: list[str], spec: str, message: bytes
) -> None:
    """Every command (and the TUI, before taking the screen) rejects a bad --field with exit 2."""
    target = str(log.parent) if command[:1] == ["serve"] else str(log)
    args = [*command[:1], target, *command[1:]] if command[:1] == ["serve"] else [*command, target]
    result = run(*args, "--field", spec)
    assert result.returncode == 2
    assert message in result.stderr
    assert b"\x1b[" not in result.stdout
