"""``agent-tui trace`` and ``agent-tui stats`` on the fleet fixture."""

from __future__ import annotations

import json
import re
import socket
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.cli.helpers import FAILED_TRACE, FLEET, run


def _fleet() -> list[dict[str, object]]:
    return [json.loads(line) for line in FLEET.read_bytes().splitlines()]


def test_trace_shows_the_span_tree_indented_with_the_traceback() -> None:
    """The timeline nests llm.decide and casino.place_bet under agent.tick and shows the traceback."""
    result = run("trace", FAILED_TRACE, str(FLEET))
    assert result.returncode == 0
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith(f"Trace {FAILED_TRACE}")
    # ▸ marks a span, ◆ a span on the critical path.
    root = next(line for line in lines if re.search("[▸◆] agent.tick", line))
    bet = next(line for line in lines if re.search("[▸◆] casino.place_bet", line))
    llm = next(line for line in lines if re.search("[▸◆] llm.decide", line))
    indent = len(root) - len(root.lstrip())
    assert len(bet) - len(bet.lstrip()) > indent
    assert len(llm) - len(llm.lstrip()) > indent
    assert "[error]" in bet and "[ok]" in llm
    assert any(line.strip() == "Traceback (most recent call last):" for line in lines)
    assert any("KeyError: 'payout_usdc'" in line for line in lines)
    timeline = [line for line in lines if "trace." in line or "http.request" in line]
    assert len(timeline) >= 5


def test_trace_json_has_every_record_in_the_span_tree() -> None:
    """--json gives the trace as data: status, the span tree, and all 14 of its records placed in spans."""
    result = run("trace", FAILED_TRACE, str(FLEET), "--json")
    data = json.loads(result.stdout)
    expected = [r for r in _fleet() if r["trace_id"] == FAILED_TRACE]
    assert data["status"] == "error"
    assert data["record_count"] == len(expected) == 14

    def walk(span: dict[str, object]) -> list[dict[str, object]]:
        found = list(span["records"])  # type: ignore[call-overload]
        for child in span["children"]:  # type: ignore[attr-defined]
            found += walk(child)
        return found

    records = [r for root in data["spans"] for r in walk(root)]
    assert sorted(r["ts"] for r in records) == sorted(r["ts"] for r in expected)
    (root,) = data["spans"]
    assert {child["op"] for child in root["children"]} == {"llm.decide", "casino.place_bet"}
    assert root["error"]["type"] == "KeyError"


def test_trace_unknown_id_exits_1() -> None:
    """A trace id nobody logged is status 1 with a message on stderr."""
    result = run("trace", "does-not-exist", str(FLEET))
    assert result.returncode == 1
    assert b"does-not-exist" in result.stderr


def test_stats_counts_match_the_fixture() -> None:
    """stats --json counts levels, events and error types exactly as a direct count of the file does."""
    records = _fleet()
    result = run("stats", str(FLEET), "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["records"] == 400
    levels = Counter(r["level"] for r in records)
    assert {k: v for k, v in data["levels"].items() if v} == dict(levels)
    assert data["levels"] == {**dict.fromkeys(data["levels"], 0), **levels}
    events = Counter(r["event"] for r in records)
    top = dict(map(tuple, data["top_events"]))
    assert all(events[event] == n for event, n in top.items())
    assert sorted(top.values(), reverse=True) == sorted(events.values(), reverse=True)[: len(top)]
    errors = Counter(r["error"]["type"] for r in records if r["level"] == "error")  # type: ignore[index]
    assert dict(map(tuple, data["top_error_types"])) == dict(errors)
    assert data["traces"]["count"] == len({r["trace_id"] for r in records})
    slowest = [t["duration_ms"] for t in data["slowest_traces"]]
    assert slowest == sorted(slowest, reverse=True)


def test_stats_text_report_names_levels_and_error_types() -> None:
    """The human report lists per-level totals and the error types."""
    out = run("stats", str(FLEET)).stdout.decode()
    assert "165" in out and "230" in out
    assert "top error types" in out
    assert "slowest traces" in out


def test_trace_of_seed_style_lines_without_span_ids(tmp_path: Path) -> None:
    """Seed-style records (trace id, no span ids) all appear on the timeline with the error type."""
    log = tmp_path / "casino.jsonl"
    log.write_text(
        '{"ts":"2026-03-04T03:21:44.312Z","level":"info","event":"bet.placed","trace_id":"t_7f3a2c9d",'
        '"bet_id":"bet_4b8c1a3e","amount_usdc":10.0}\n'
        '{"ts":"2026-03-04T03:21:44.100Z","level":"info","event":"other","trace_id":"t_other"}\n'
        '{"ts":"2026-03-04T03:21:44.396Z","level":"info","event":"bet.complete","trace_id":"t_7f3a2c9d",'
        '"outcome":"win","payout_usdc":19.8}\n'
        '{"ts":"2026-03-04T03:21:45.000Z","level":"error","event":"withdraw.failed","trace_id":"t_7f3a2c9d",'
        '"error":{"type":"TimeoutError","message":"escrow timed out"}}\n'
    )
    out = run("trace", "t_7f3a2c9d", str(log)).stdout.decode()
    events = [name for name in ("bet.placed", "bet.complete", "withdraw.failed", "other") if name in out]
    assert events == ["bet.placed", "bet.complete", "withdraw.failed"]
    assert out.index("bet.placed") < out.index("bet.complete") < out.index("withdraw.failed")
    assert "TimeoutError: escrow timed out" in out
    assert "payout_usdc=19.8" in out


@pytest.mark.parametrize("argv", [("query", "level >= error"), ("stats",), ("trace", "abc")])
def test_unreachable_url_without_follow_says_cannot_read_and_promises_no_retry(argv: tuple[str, ...]) -> None:
    """Without --follow an unreachable server is one clear 'cannot read' line and exit 2, no 'retrying in'."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run(*argv, f"http://127.0.0.1:{port}/")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert f"http://127.0.0.1:{port}/: cannot read: " in err
    assert "retrying" not in err


def test_trace_json_keeps_the_chained_cause_the_detail_pane_shows() -> None:
    """trace --json writes a failed span's error with its chained ``cause``, like the detail pane does."""
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "formats" / "agent-tui.jsonl"
    chained = next(
        json.loads(line)
        for line in fixture.read_bytes().splitlines()
        if b'"cause"' in line and b'"span_id"' in line
    )
    result = run("trace", chained["trace_id"], str(fixture), "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    failed = []
    todo = list(data["spans"])
    while todo:
        span = todo.pop()
        todo.extend(span["children"])
        if span["span_id"] == chained["span_id"]:
            failed.append(span)
    (span,) = failed
    assert span["error"]["type"] == chained["error"]["type"]
    assert span["error"]["cause"] == chained["error"]["cause"]
