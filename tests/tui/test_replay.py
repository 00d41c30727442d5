"""``agent-tui replay`` in the app: records reach the view in order, spaced by the replay clock, steerable."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_tui.model.replay import Cue, Player, ReplayClock
from agent_tui.tui.keys import KEYS
from agent_tui.tui.replay import REPLAY_KEYS, make_replay_app
from agent_tui.tui.screens.help import HelpScreen
from tests.tui.conftest import T0, line, screen_text, until
from tests.unit.replay.test_player import FakeTime


def _cues() -> list[Cue]:
    events = [(0.0, "info", "a"), (0.5, "warning", "b"), (0.5, "info", "c"), (2.5, "critical", "d")]
    return [Cue(T0 + t, "rec.jsonl", line(T0 + t, level, event, trace_id="t1")) for t, level, event in events]


async def test_records_reach_the_view_in_order_on_the_scaled_clock(tmp_path: Path) -> None:
    """At ×10 the player waits 0.05 s then 0.2 s; the view gets a, b, c, d; the bar says REPLAY ×10."""
    fake = FakeTime()
    cues = _cues()
    clock = ReplayClock(cues[0].at, 10.0, real=fake)
    seen: list[tuple[float, int]] = []
    player = Player(cues, clock, fake.wait)
    app = make_replay_app(player, environ={}, export_dir=tmp_path)
    original = app.model.ingest

    def ingest(batch):  # type: ignore[no-untyped-def]
        result = original(batch)
        seen.append((clock.now(), result.count))
        return result

    app.model.ingest = ingest  # type: ignore[method-assign]
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await until(pilot, lambda: len(app.view) == 4)
        events = [app.model.store.record(seq).event for seq in app.view]
        assert events == ["a", "b", "c", "d"]
        assert fake.waits == [pytest.approx(0.05), pytest.approx(0.2)]
        # Each batch is ingested at the record time of its lines, never before, in time order.
        times = [t for t, _ in seen]
        assert times == sorted(times) and sum(n for _, n in seen) == 4
        assert all(any(abs(t - c.at) < 1e-6 for c in cues) for t in times)
        assert app.model.clock.now() == pytest.approx(cues[-1].at)
        await until(pilot, lambda: "REPLAY ×10" in screen_text(app))
        await until(pilot, lambda: "CRITICAL" in screen_text(app))  # the toast fires on replay too


async def test_replay_keys_pause_step_and_speed(tmp_path: Path) -> None:
    """P pauses (the bar shows it), . plays one record, + doubles the speed."""
    fake = FakeTime()
    cues = _cues()
    player = Player(cues, ReplayClock(cues[0].at, 10.0, real=fake), fake.wait)
    player.toggle_pause()
    app = make_replay_app(player, environ={}, export_dir=tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "REPLAY ×10 ❚❚" in screen_text(app))
        assert len(app.model.store) == 0
        await pilot.press("full_stop")
        await until(pilot, lambda: len(app.model.store) == 1)
        await pilot.press("plus")
        await until(pilot, lambda: "REPLAY ×20" in screen_text(app))
        await pilot.press("P")
        await until(pilot, lambda: len(app.view) == 4)
        assert [app.model.store.record(seq).event for seq in app.view] == ["a", "b", "c", "d"]


async def test_help_lists_the_replay_keys_and_fits_80x24(tmp_path: Path) -> None:
    """In a replay, ? lists P, ., + and - beside every other key, still without scrolling at 80×24."""
    fake = FakeTime()
    cues = _cues()
    player = Player(cues, ReplayClock(cues[0].at, 10.0, real=fake), fake.wait)
    app = make_replay_app(player, environ={}, export_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        box = app.screen.query_one("#help-box")
        last = REPLAY_KEYS[-1].description
        await until(pilot, lambda: box.size.height > 0 and last in screen_text(app), what="replay keys drawn")
        assert box.max_scroll_y == 0
        text = screen_text(app)
        for key in (*KEYS, *REPLAY_KEYS):
            assert key.description in text, key.description
