"""The demo fleet at its own pace: its failures are flagged, its healthy traces never are."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from agent_tui.demo import run_fleet
from agent_tui.model.session import LogModel
from agent_tui.model.traces.analysis import FLAG_NAMES
from agent_tui.sources.base import LineBatch

DEMO_RATE = 20.0
"""``agent-tui demo``'s default records per second (the fleet runs faster here, then is slowed down)."""


def _at_demo_pace(files: list[list[bytes]], t0: float) -> list[bytes]:
    """Each agent's records re-timed as the demo's pacer spaces them (rate / agents apart), merged by time.

    The fleet ran faster than the demo does; its own timestamps carry the host's scheduling jitter, which
    stretching would magnify into fake slow traces. Each agent's record sequence is seeded, so this is
    the same fleet, deterministically timed.
    """
    step = len(files) / DEMO_RATE
    timed = []
    for lines in files:
        for j, line in enumerate(lines):
            obj = orjson.loads(line)
            moment = datetime.fromtimestamp(t0 + j * step, UTC)
            obj["ts"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            timed.append((t0 + j * step, orjson.dumps(obj)))
    return [line for _, line in sorted(timed, key=lambda pair: pair[0])]


def test_no_flag_on_healthy_demo_traces(tmp_path: Path) -> None:
    """Every flag lands on a failed trace (a DLQ'd bet's retries), none on the ok ones."""
    summary = run_fleet(tmp_path, agents=6, rate=1500.0, seconds=2.0, seed=7)
    files = [Path(name).read_bytes().splitlines() for name in summary.files if name.endswith(".jsonl")]
    model = LogModel()
    paced = _at_demo_pace(files, 1_772_582_400.0)
    for i in range(0, len(paced), 200):
        model.ingest(LineBatch("demo", paced[i : i + 200]))
    ok = {t.trace_id for t in model.traces.traces() if t.status == "ok"}
    assert len(ok) > 200
    for name in FLAG_NAMES:
        assert not ok.intersection(model.flags.flagged(name)), name
    storms = model.flags.flagged("retry_storm")
    assert storms, "the scripted DLQ'd bet retried 4 times and must be flagged"
    assert all(model.traces.get(t).status in ("error", "critical") for t in storms)  # type: ignore[union-attr]
