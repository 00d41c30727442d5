"""A critical that arrives while following always alerts, whatever its timestamp; old history does not."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from agent_tui.model.clock import FrozenClock
from agent_tui.sources.base import SourceState
from agent_tui.sources.factory import open_source
from agent_tui.sources.options import SourceOptions
from agent_tui.tui.app import AgentTuiApp
from agent_tui.tui.factory import make_app

from .conftest import T0, Build, screen_text, until

HOUR_AGO = T0 + 30 - 3600
"""An hour before the frozen clock: a skewed writer, naive local times read as UTC, or old logs appended."""


def line(ts: float, level: str, event: str) -> bytes:
    """One wire-schema JSON line stamped ``ts`` (any time, unlike the conftest's minute-of-T0 helper)."""
    iso = datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    return orjson.dumps({"ts": iso, "level": level, "event": event})


def _bells(app: AgentTuiApp) -> list[int]:
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    return bells


async def test_old_critical_alerts_once_the_source_follows_but_not_from_history(build: Build) -> None:
    """An hour-old critical read as history stays quiet; the same age arriving while following toasts."""
    app, source = build()
    bells = _bells(app)
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        source.status(SourceState.READING)
        source.push([line(HOUR_AGO, "critical", "old.history_crit"), line(HOUR_AGO + 1, "info", "x")])
        source.status(SourceState.FOLLOWING)
        source.push([line(HOUR_AGO + 2, "critical", "skewed.clock_crit")])
        await until(pilot, lambda: "CRITICAL" in screen_text(app))
        assert _alerted(app) == ["skewed.clock_crit"]
        assert bells == [1]


def _alerted(app: AgentTuiApp) -> list[str]:
    """The events of the records that raised a toast, oldest first."""
    return [app.model.store.record(seq).event for seq in sorted(app.alerted)]


def _write(path: Path, *lines: bytes, mode: str = "ab") -> None:
    with path.open(mode) as out:
        out.write(b"".join(one + b"\n" for one in lines))


async def test_followed_directory_alerts_old_criticals_appended_or_in_new_files(tmp_path: Path) -> None:
    """The real directory source: an hour-old critical appended to a file inside, or in a new file, toasts."""
    logs = tmp_path / "logs"
    logs.mkdir()
    _write(logs / "agent.jsonl", line(HOUR_AGO, "critical", "old.history_crit"), line(HOUR_AGO, "info", "x"))
    source = open_source(str(logs), SourceOptions(follow=True))
    app = make_app([source], clock=FrozenClock(T0 + 30), follow=True, export_dir=tmp_path, environ={})
    bells = _bells(app)
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        await until(pilot, lambda: app.source_states[source.name][0] == "following")
        await until(pilot, lambda: len(app.model.store) == 2)
        assert bells == []
        _write(logs / "agent.jsonl", line(HOUR_AGO + 5, "critical", "appended.skewed_crit"))
        await until(pilot, lambda: _alerted(app) == ["appended.skewed_crit"])
        await until(pilot, lambda: "CRITICAL" in screen_text(app))
        assert bells == [1]
        _write(logs / "worker.jsonl", line(HOUR_AGO + 6, "critical", "new_file.old_crit"), mode="wb")
        await until(pilot, lambda: len(app.alerted) == 2)
        assert _alerted(app) == ["appended.skewed_crit", "new_file.old_crit"]
        assert bells == [1, 1]
