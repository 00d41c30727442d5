"""Flags on a generated fleet with known storms, loops, slow, costly and stuck traces, and none elsewhere."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from agent_tui.model.clock import FrozenClock
from agent_tui.model.session import LogModel
from agent_tui.model.traces.analysis import FLAG_NAMES, Thresholds
from agent_tui.model.traces.analysis.flags import _Tally
from agent_tui.sources.base import LineBatch
from tests.unit.analysis.fleet import Fleet, build, stamp


def flagged(model: LogModel) -> dict[str, set[str]]:
    return {name: set(model.flags.flagged(name)) for name in FLAG_NAMES if model.flags.flagged(name)}


def ingest(fleet: Fleet, size: int, thresholds: Thresholds | None = None) -> LogModel:
    model = LogModel(thresholds=thresholds)
    for i in range(0, len(fleet.lines), size):
        model.ingest(LineBatch("fleet", fleet.lines[i : i + size]))
    return model


@pytest.mark.parametrize("size", [1, 7, 100_000])
def test_each_flag_lands_on_exactly_the_troubled_traces(size: int) -> None:
    """Whatever the batch size, every planted trouble is flagged and no healthy trace is."""
    fleet = build()
    assert flagged(ingest(fleet, size)) == fleet.expected


def test_loop_evidence_is_the_repeated_calls() -> None:
    """An agent loop's evidence is the three identical tool calls (ids, times and durations set aside)."""
    fleet = build()
    model = ingest(fleet, 50)
    (tid,) = fleet.expected["agent_loop"]
    flag = model.flags.of(tid)["agent_loop"]
    events = [model.store.record(seq).event for seq in flag.evidence]
    assert events == ["tool.invoked"] * 3
    assert "web_search" in flag.reason


def test_retry_storm_evidence_and_agent_storm() -> None:
    """Retry warnings are the evidence; ten 429s of one agent within a minute name that agent."""
    fleet = build()
    model = ingest(fleet, 50)
    first = min(fleet.expected["retry_storm"])
    evidence = model.flags.of(first)["retry_storm"].evidence
    assert [model.store.record(s).event for s in evidence] == ["api.retry"] * 3
    assert set(model.flags.agent_storms) == {"noisy-agent"}
    assert len(model.flags.agent_storms["noisy-agent"].evidence) == 10


def test_stuck_needs_time_to_pass_and_turns_slow_when_the_trace_ends() -> None:
    """A trace is stuck only once it has run 10 × its op's median; its end line swaps stuck for slow."""
    fleet = build()
    (tid,) = fleet.expected["stuck"]
    at = next(i for i, line in enumerate(fleet.lines) if tid.encode() in line)
    model = LogModel()
    model.ingest(LineBatch("fleet", fleet.lines[: at + 1]))
    assert model.flags.names(tid) == []
    model.ingest(LineBatch("fleet", fleet.lines[at + 1 :]))
    assert model.flags.names(tid) == ["stuck"]
    assert "× median" in model.flags.of(tid)["stuck"].reason
    epoch = model.flags.epoch
    end = b'{"ts":"%s","level":"info","event":"trace.complete","trace_id":"%s","span_id":"ffff000000000001"}'
    model.ingest(LineBatch("fleet", [end % (stamp(fleet.t + 1).encode(), tid.encode())]))
    assert model.flags.names(tid) == ["slow"] and model.flags.counts["stuck"] == 0
    assert model.flags.epoch > epoch


def test_stuck_is_raised_by_the_clock_alone_when_following() -> None:
    """While following, a silent running trace becomes stuck as the injected clock moves on."""
    fleet = build()
    (tid,) = fleet.expected["stuck"]
    at = next(i for i, line in enumerate(fleet.lines) if tid.encode() in line)
    started = orjson.loads(fleet.lines[at])["ts"]
    clock = FrozenClock(datetime.fromisoformat(started).timestamp() + 0.5)
    model = LogModel(clock=clock, following=True)
    model.ingest(LineBatch("fleet", fleet.lines[: at + 1]))
    assert model.flags.check() == set()
    clock.advance(1.5)
    assert model.flags.check() == {tid}
    assert model.flags.names(tid) == ["stuck"]


def test_thresholds_are_honoured() -> None:
    """Raising the retry and repeat thresholds silences the storms and loops they gated."""
    fleet = build()
    found = flagged(ingest(fleet, 100, Thresholds(retries=5, repeats=4, rate_limits=20)))
    assert "agent_loop" not in found and "retry_storm" not in found


def test_parallel_load_ships_the_same_signals(tmp_path: Path) -> None:
    """Worker processes find the same flags as ingesting in-process (signals are shipped, not lines)."""
    fleet = build()
    path = tmp_path / "fleet.jsonl"
    path.write_bytes(b"\n".join(fleet.lines) + b"\n")
    model = LogModel()
    model.load_file(str(path), workers=2, parallel_min_bytes=0, piece_bytes=20_000)
    assert flagged(model) == fleet.expected
    model.close()


@pytest.mark.parametrize("size", [1, 7, 100_000])
def test_a_loop_across_sequential_root_spans_of_one_trace_is_flagged_at_any_batch_size(size: int) -> None:
    """The same tool call in three root spans that follow each other under one trace id is one agent loop."""
    fleet = Fleet()
    tid = f"{1:032x}"
    for i in range(3):
        root = f"{i + 1:016x}"
        fleet.emit("trace.start", tid, span_id=root, op="agent.step")
        fleet.t += 0.1
        fleet.emit(
            "tool.invoked",
            tid,
            span_id=f"{i + 1:08x}{0:08x}",
            parent_span_id=root,
            tool="web_search",
            args={"q": "same"},
        )
        fleet.t += 0.1
        fleet.emit("trace.complete", tid, span_id=root, op="agent.step", duration_ms=200)
        fleet.t += 0.5
    assert flagged(ingest(fleet, size)).get("agent_loop") == {tid}


def _long_trace(calls: int, retries: int) -> list[bytes]:
    """One trace of ``calls`` tool calls (one in three with other arguments) and ``retries`` retries."""
    lines = []
    for n in range(calls + retries):
        call = n < calls
        attrs = {"tool": "web_search", "query": "same" if n % 3 else f"other {n}"} if call else {"attempt": n}
        lines.append(
            orjson.dumps(
                {
                    "ts": stamp(n * 0.01),
                    "level": "warning" if not call else "info",
                    "event": "tool.invoked" if call else "api.retry",
                    "trace_id": "t-long",
                    "span_id": "s1",
                    "op": "agent.tick",
                    **attrs,
                }
            )
        )
    return lines


def test_a_long_trace_keeps_the_first_evidence_and_counts_every_repeat() -> None:
    """Thousands of repeated calls and retries in one trace: the flags keep the first 50 records as
    evidence and the loop's reason counts the calls made with the same arguments when it was raised."""
    model = LogModel()
    lines = _long_trace(3000, 500)
    for i in range(0, len(lines), 256):
        model.ingest(LineBatch("long", lines[i : i + 256]))
    flags = model.flags.of("t-long")
    loop, storm = flags["agent_loop"], flags["retry_storm"]
    assert len(loop.evidence) == 50 and len(storm.evidence) == 50
    assert [model.store.record(s).event for s in storm.evidence] == ["api.retry"] * 50
    same = [seq for seq in loop.evidence if model.store.attrs(seq)["query"] == "same"]
    assert same == list(loop.evidence)
    assert loop.evidence == tuple(sorted(loop.evidence))
    assert "repeated 3 times" in loop.reason


def test_the_call_tally_agrees_with_counting_again_over_every_call() -> None:
    """After each call, the most frequent fingerprint (the first seen among equals, as
    ``Counter.most_common``) and its first 50 calls are what a count over all calls so far gives."""
    rng = random.Random(4)
    for _ in range(200):
        tally, fps = _Tally(), []
        for seq in range(rng.randint(1, 120)):
            fp = rng.choice("abcd"[: rng.randint(1, 4)])
            fps.append(fp)
            tally.add(fp, seq)
            best, times = Counter(fps).most_common(1)[0]
            assert (tally.best, tally.counts[best]) == (best, times)
            assert tally.first[best] == [s for s, f in enumerate(fps) if f == best][:50]
