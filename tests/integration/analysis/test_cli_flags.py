"""``agent-tui trace`` and ``stats`` show critical paths, self times and flags (text and --json)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.integration.cli.helpers import run
from tests.unit.analysis.fleet import Fleet, build


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Fleet, Path]:
    built = build()
    path = tmp_path_factory.mktemp("fleet") / "fleet.jsonl"
    path.write_bytes(b"\n".join(built.lines) + b"\n")
    return built, path


def _spans(spans: list[dict[str, object]]) -> list[dict[str, object]]:
    out = []
    for span in spans:
        out.append(span)
        out.extend(_spans(span["children"]))  # type: ignore[arg-type]
    return out


def test_trace_json_has_critical_path_self_times_and_flags(fleet: tuple[Fleet, Path]) -> None:
    """The loop trace's JSON names its flag with the repeated calls as evidence, its path and self times."""
    built, path = fleet
    (tid,) = built.expected["agent_loop"]
    done = run("trace", "--json", tid, str(path))
    assert done.returncode == 0, done.stderr
    data = orjson.loads(done.stdout)
    assert [f["name"] for f in data["flags"]] == ["agent_loop"]
    assert [r["event"] for r in data["flags"][0]["evidence"]] == ["tool.invoked"] * 3
    spans = _spans(data["spans"])
    root = data["spans"][0]
    assert data["critical_path"][0] == root["span_id"]
    assert set(data["critical_path"]) <= {s["span_id"] for s in spans}
    assert all("self_ms" in s for s in spans)
    children = sum(c["duration_ms"] for c in root["children"])
    assert root["self_ms"] == pytest.approx(root["duration_ms"] - children, abs=0.01)


def test_trace_text_marks_the_critical_path_and_flags(fleet: tuple[Fleet, Path]) -> None:
    """The timeline shows ⚑ with the reason and ◆ on critical spans, with self times."""
    built, path = fleet
    (tid,) = built.expected["slow"]
    done = run("trace", tid, str(path))
    text = done.stdout.decode()
    assert done.returncode == 0
    assert "⚑ slow:" in text and "p99" in text
    assert "◆ agent.step" in text and "self " in text


def test_stats_lists_flag_counts_and_ids(fleet: tuple[Fleet, Path]) -> None:
    """stats --json counts each flag and lists the flagged ids; the text report has a flags table."""
    built, path = fleet
    data = orjson.loads(run("stats", "--json", str(path)).stdout)
    flags = data["flags"]
    assert flags["counts"] == {name: len(ids) for name, ids in built.expected.items()}
    assert {name: set(ids) for name, ids in flags["traces"].items()} == built.expected
    assert list(flags["agents"]) == ["noisy-agent"]
    text = run("stats", str(path)).stdout.decode()
    assert "flags" in text and "agent_loop" in text and "noisy-agent" in text


def test_threshold_options_change_the_flags(fleet: tuple[Fleet, Path]) -> None:
    """--loop-threshold 4 silences the loop; a nonsense threshold is a usage error."""
    _, path = fleet
    data = orjson.loads(run("stats", "--json", "--loop-threshold", "4", str(path)).stdout)
    assert data["flags"]["counts"]["agent_loop"] == 0
    bad = run("stats", "--retry-threshold", "0", str(path))
    assert bad.returncode == 2 and b"at least 1" in bad.stderr


def test_query_refuses_flag_filters_with_a_reason(fleet: tuple[Fleet, Path]) -> None:
    """A streaming query cannot judge flags: it says where to look instead of matching nothing."""
    _, path = fleet
    done = run("query", 'flag == "slow"', str(path))
    assert done.returncode == 2 and b"trace index" in done.stderr


def test_replay_stdout_is_byte_for_byte(fleet: tuple[Fleet, Path], tmp_path: Path) -> None:
    """replay --stdout writes the recorded lines unchanged (CRLF and raw lines too), in time order."""
    _, path = fleet
    odd = tmp_path / "odd.jsonl"
    odd.write_bytes(b'{"ts":"2026-03-04T00:00:00Z","event":"x"}\r\nnot json\n')
    done = run("replay", "--stdout", "--speed", "4096", str(odd))
    assert done.returncode == 0 and done.stdout == odd.read_bytes()
    fast = run("replay", "--stdout", "--speed", "4096", "--to", "2026-03-04T00:00:10Z", str(path))
    lines = fast.stdout.splitlines()
    assert lines and lines == path.read_bytes().splitlines()[: len(lines)]
    assert all(orjson.loads(line)["ts"] <= "2026-03-04T00:00:10" for line in lines)
    assert run("replay", "--stdout", "--speed", "0", str(path)).returncode == 2
