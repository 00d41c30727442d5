"""Integers wider than 64 bits through ``query``, ``trace`` and ``serve``: compared and written exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli.helpers import run

WEI = 123456789012345678901234567890
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture(params=[(",", ":"), (", ", ": ")], ids=["compact", "spaced"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Three transfers (WEI, WEI + 1, 10**18) in one trace, compact or json.dumps-spaced."""
    path = tmp_path / "wei.jsonl"
    rows = [(1, WEI, 98765432109876543210987654321), (2, WEI + 1, 5), (3, 10**18, 7)]
    path.write_text(
        "".join(
            json.dumps(
                {
                    "ts": f"2026-03-04T00:00:0{s}.000Z",
                    "level": "info",
                    "event": "transfer",
                    "trace_id": TRACE,
                    "span_id": "00f067aa0ba902b7",
                    "amount_wei": wei,
                    "tx_id": tx,
                },
                separators=request.param,
            )
            + "\n"
            for s, wei, tx in rows
        )
    )
    return path


def _wei(stdout: bytes) -> list[int]:
    return [json.loads(line)["amount_wei"] for line in stdout.splitlines()]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (f"amount_wei == {WEI}", [WEI]),
        (f"amount_wei > {WEI}", [WEI + 1]),
        (f"amount_wei >= {WEI} and level == info", [WEI, WEI + 1]),
        (f"amount_wei in [{WEI + 1}, 5]", [WEI + 1]),
        ("amount_wei < 1e19", [10**18]),
        ("tx_id == 98765432109876543210987654321", [WEI]),
        (f"select(.amount_wei != {WEI})", [WEI + 1, 10**18]),
    ],
)
def test_query_compares_wide_integers_exactly(log: Path, flt: str, expected: list[int]) -> None:
    """Each filter on a 30-digit value picks exactly the lines a big-integer comparison picks."""
    result = run("query", flt, str(log))
    assert _wei(result.stdout) == expected


def test_query_with_a_time_bound_takes_the_parsed_path_exactly(log: Path) -> None:
    """With --since (every line parsed, attributes decoded on demand) == on WEI + 1 still finds one line."""
    result = run("query", "--since", "2026-03-04T00:00:00Z", f"amount_wei == {WEI + 1}", str(log))
    assert _wei(result.stdout) == [WEI + 1]


def test_query_pretty_prints_every_digit(log: Path) -> None:
    """--format pretty writes amount_wei=123456789012345678901234567890, not 1.2345678901234568e+29."""
    out = run("query", "--format", "pretty", "tx_id == 5", str(log)).stdout.decode()
    assert f"amount_wei={WEI + 1}" in out and "e+29" not in out


def test_trace_json_writes_wide_integers_exactly(log: Path) -> None:
    """trace --json holds the records' 30-digit amounts as JSON integers, digit for digit."""
    result = run("trace", TRACE, str(log), "--json")
    assert result.returncode == 0
    assert f'"amount_wei": {WEI}'.encode() in result.stdout
    data = json.loads(result.stdout)
    records = [r for span in data["spans"] for r in span["records"]]
    assert [r["amount_wei"] for r in records] == [WEI, WEI + 1, 10**18]


def test_serve_filters_wide_integers_exactly(log: Path) -> None:
    """serve --stdio --filter 'amount_wei == WEI + 1' sends just that record, its line unchanged."""
    result = run("serve", str(log.parent), "--stdio", "--filter", f"amount_wei == {WEI + 1}")
    records = [obj["line"] for obj in map(json.loads, result.stdout.splitlines()) if "line" in obj]
    assert [r["amount_wei"] for r in records] == [WEI + 1]
