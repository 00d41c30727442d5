"""The demo fleet at its own pace: its failures are flagged, its healthy traces never are."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from agent_tui.demo import run_fleet
from agent_tui.model.analysis import FLAG_NAMES
from agent_tui.model.session import LogModel
from agent_tui.sources.base import LineBatch

DEMO_RATE = 20.0
"""``agent-tui demo``'s default records per second (the fleet runs faster here, then is slowed down)."""


def _at_demo_pace(lines: list[bytes], t0: float, factor: float) -> list[bytes]:
    """The same records with their time gaps stretched by ``factor`` (as if written at the demo's rate)."""
    out = []
    for line in lines:
        obj = orjson.loads(line)
        t = datetime.fromisoformat(obj["ts"]).timestamp()
        moment = datetime.fromtimestamp(t0 + (t - t0) * factor, UTC)
        obj["ts"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        out.append(orjson.dumps(obj))
    return out


def test_no_flag_on_healthy_demo_traces(tmp_path: Path) -> None:
    """Every flag lands on a failed trace (a DLQ'd bet's retries), none on the ok ones."""
    rate = 1500.0
    summary = run_fleet(tmp_path, agents=6, rate=rate, seconds=2.0, seed=7)
    lines = sorted(
        (line for name in summary.files for line in Path(name).read_bytes().splitlines()),
        key=lambda line: orjson.loads(line)["ts"],
    )
    t0 = datetime.fromisoformat(orjson.loads(lines[0])["ts"]).timestamp()
    model = LogModel()
    paced = _at_demo_pace(lines, t0, rate / DEMO_RATE)
    for i in range(0, len(paced), 200):
        model.ingest(LineBatch("demo", paced[i : i + 200]))
    ok = {t.trace_id for t in model.traces.traces() if t.status == "ok"}
    assert len(ok) > 200
    for name in FLAG_NAMES:
        assert not ok.intersection(model.flags.flagged(name)), name
    storms = model.flags.flagged("retry_storm")
    assert storms, "the scripted DLQ'd bet retried 4 times and must be flagged"
    assert all(model.traces.get(t).status in ("error", "critical") for t in storms)  # type: ignore[union-attr]
