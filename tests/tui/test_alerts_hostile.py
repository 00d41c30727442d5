"""Pilot tests: criticals toast and ring once even when filtered out; hostile lines render as plain text."""

from __future__ import annotations

from pathlib import Path

from agent_tui.sources.base import SourceState

from .conftest import T0, Build, apply_filter, fleet_lines, line, screen_text, until

FIXTURE = Path(__file__).parent.parent / "fixtures" / "hostile.jsonl"


async def test_new_critical_toasts_and_rings_once_even_if_filtered_out(build: Build) -> None:
    """A live critical raises one toast and one bell although the filter hides it."""
    app, source = build()
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        source.status(SourceState.FOLLOWING)
        source.push(fleet_lines()[:10])
        await until(pilot, lambda: len(app.model.store) == 10)
        await apply_filter(pilot, app, "event == 'nothing'")
        await until(pilot, lambda: app.logs.row_count == 0)
        source.push([line(T0 + 25, "critical", "llm.loop_runaway", agent_id="agent-9")])
        await until(pilot, lambda: "llm.loop_runaway" in screen_text(app))
        assert "CRITICAL" in screen_text(app)
        assert app.logs.row_count == 0
        assert bells == [1]
        source.push([line(T0 + 26, "info", "after")])
        await until(pilot, lambda: len(app.model.store) == 12)
        assert bells == [1]
        source.push([line(T0 + 27, "critical", "evil\x1b]52;c;aGk=\x07 [b]not bold[/b]")])
        await until(pilot, lambda: "[b]not bold[/b]" in screen_text(app))
        assert "\x1b" not in screen_text(app)
        assert bells == [1, 1]


def _hostile_lines() -> list[bytes]:
    if FIXTURE.exists():
        return FIXTURE.read_bytes().splitlines()
    return []


async def test_hostile_lines_render_as_plain_text(build: Build) -> None:
    """Escapes, bidi overrides and Rich markup in logs are shown literally and never styled or executed."""
    own = [
        line(T0, "info", "[bold red]not markup[/] \x1b[2J\x1b]52;c;aGk=\x07 \u202eevil"),
        b"\x1b[31mraw escape line\x1b[0m [link=http://x]click[/link]",
        line(T0 + 1, "info", "ok", **{"[key]": "[/]"}),
    ]
    lines = own + _hostile_lines()
    app, source = build(follow=False)
    async with app.run_test(notifications=True, size=(120, 40)) as pilot:
        source.push(lines)
        # Blank lines are no records.
        records = sum(1 for raw in lines if raw.strip())
        await until(pilot, lambda: app.logs.row_count == records)
        await pilot.press("g")
        await until(pilot, lambda: "not markup" in app.logs.render_line(0).text, what="the first rows shown")
        rows = [app.logs.render_line(y).text for y in range(3)]
        assert "[bold red]not markup[/]" in rows[0]
        assert "\u202e" not in rows[0] and "\x1b" not in rows[0]
        assert "[link=http://x]click[/link]" in rows[1]
        assert "[key]=[/]" in rows[2]
        for y in range(min(records, 38)):
            text = app.logs.render_line(y).text
            assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text)
        await pilot.press("d")
        await until(pilot, lambda: bool(app.detail.display) and 'event: "' in screen_text(app))
        assert "\x1b" not in screen_text(app)
