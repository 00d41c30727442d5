"""The demo fleet: real rotating files, counts that match, reproducible content, early errors, CLI."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest

from agent_tui.cli import main
from agent_tui.demo import run_fleet

VOLATILE = {"ts", "duration_ms", "dlq_id"}


def _records(directory: Path) -> dict[str, list[dict[str, object]]]:
    return {
        path.stem: [orjson.loads(line) for line in path.read_bytes().splitlines()]
        for path in sorted(directory.glob("*.jsonl"))
    }


def test_short_run_counts_match_files(tmp_path: Path) -> None:
    """Every line written parses, and the summary's per-level counts equal what the files hold."""
    summary = run_fleet(tmp_path, agents=3, rate=300, seconds=1.5, seed=1)
    records = _records(tmp_path)
    assert sorted(records) == sorted(summary.agents)
    from_files = Counter(str(r["level"]) for rs in records.values() for r in rs)
    assert {k: v for k, v in summary.counts.items() if v} == dict(from_files)
    assert summary.records == sum(from_files.values()) > 50
    assert all(Path(f).exists() for f in summary.files)


def test_content_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    """Two runs with one seed write the same per-agent event content (up to the shorter run's length)."""
    run_fleet(tmp_path / "a", agents=3, rate=400, seconds=1.0, seed=7)
    run_fleet(tmp_path / "b", agents=3, rate=400, seconds=1.0, seed=7)
    run_fleet(tmp_path / "c", agents=3, rate=400, seconds=1.0, seed=8)
    a, b, c = (_records(tmp_path / d) for d in "abc")
    for agent, rows in a.items():
        left = [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]
        right = [{k: v for k, v in r.items() if k not in VOLATILE} for r in b[agent]]
        n = min(len(left), len(right))
        assert n > 10
        assert left[:n] == right[:n]
    assert [r["trace_id"] for r in a["betting-agent-001"][:5]] != [
        r["trace_id"] for r in c["betting-agent-001"][:5]
    ]


def test_errors_and_a_critical_come_early(tmp_path: Path) -> None:
    """The first operations include a DLQ'd failure with a real traceback, nested spans and auth.revoked."""
    run_fleet(tmp_path, agents=4, rate=500, seconds=2.0, seed=0)
    rows = [r for rs in _records(tmp_path).values() for r in rs]
    critical = [r for r in rows if r["level"] == "critical"]
    assert critical and critical[0]["event"] == "auth.revoked"
    assert critical[0]["cannot_continue"] is True
    failed = [r for r in rows if r["event"] == "trace.failed" and "error" in r]
    assert len(failed) >= 3
    assert any("Traceback" in str(r["error"]["traceback"][0]) for r in failed)  # type: ignore[index]
    assert any(r.get("dlq") for r in rows)
    assert any(r["event"] == "rate_limit_hit" or r["event"] == "api.retry" for r in rows)
    assert any("parent_span_id" in r for r in rows)
    llm = [r for r in rows if r["event"] == "llm.call"]
    assert llm and {"gen_ai.request.model", "gen_ai.usage.input_tokens", "cost_usd"} <= set(llm[0])


def test_stop_event_ends_an_open_ended_run(tmp_path: Path) -> None:
    """run_fleet(seconds=None) runs until the stop event is set from another thread."""
    stop = threading.Event()
    result = {}
    thread = threading.Thread(
        target=lambda: result.update(s=run_fleet(tmp_path, rate=200, stop=stop)), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not list(tmp_path.glob("*.jsonl")) or not any(p.stat().st_size for p in tmp_path.glob("*.jsonl")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stop.set()
    thread.join(20)
    assert not thread.is_alive()
    assert result["s"].records > 0


def test_cli_demo_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """agent-tui demo --write DIR writes files and prints counts by level and the files."""
    code = main(["demo", "--write", str(tmp_path), "--seconds", "1", "--rate", "200", "--agents", "2"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("wrote ")
    assert "info" in out
    assert str(tmp_path / "betting-agent-001.jsonl") in out
    assert main(["demo", "--write", str(tmp_path), "--agents", "0", "--seconds", "1"]) == 2
