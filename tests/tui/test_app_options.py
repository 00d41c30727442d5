"""Pilot tests of start-up options and status: themes, NO_COLOR, source errors, eviction, the CLI entry."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from agent_tui.cli import tui as cli_tui
from agent_tui.model.clock import FrozenClock
from agent_tui.sources.base import SourceState
from agent_tui.tui.factory import make_app

from .conftest import Build, QueueSource, fleet_lines, screen_text, until


async def test_no_color_selects_mono_and_theme_option_wins(clock: FrozenClock) -> None:
    """NO_COLOR starts in the mono theme; --theme light overrides it."""
    mono = make_app([QueueSource()], clock=clock, environ={"NO_COLOR": "1"})
    async with mono.run_test(size=(80, 24)):
        assert mono.theme == "mono"
    light = make_app([QueueSource()], clock=clock, theme="light", environ={"NO_COLOR": "1"})
    async with light.run_test(size=(80, 24)):
        assert light.theme == "light"


async def test_source_error_is_shown_with_its_reason(build: Build) -> None:
    """A source reporting an error shows its state and reason in the stats bar."""
    app, source = build()
    async with app.run_test(notifications=True, size=(120, 30)) as pilot:
        source.status(SourceState.ERROR, "permission denied")
        await until(pilot, lambda: "permission denied" in screen_text(app))
        assert "1 error" in screen_text(app)


async def test_max_records_evicts_and_counts(build: Build) -> None:
    """With --max-records the oldest records go, the bar counts them and the view stays drawable."""
    app, source = build(max_records=10)
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.model.store.evicted > 0)
        await until(pilot, lambda: f"evicted {app.model.store.evicted}" in screen_text(app))
        await pilot.press("g", "j", "G", "4")
        await until(
            pilot, lambda: app.view_min_level is not None and "wallet.key_revoked" in screen_text(app)
        )
        assert len(app.model.store) <= 10


def test_cli_reports_a_missing_path_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """agent-tui on a path that does not exist prints a clear error and returns 2 without starting the UI."""
    parser = argparse.ArgumentParser()
    cli_tui.add_arguments(parser)
    args = parser.parse_args([str(tmp_path / "nope.jsonl")])
    assert cli_tui.run(args) == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_cli_rejects_an_unknown_level(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--level with an unknown name is an error naming it."""
    parser = argparse.ArgumentParser()
    cli_tui.add_arguments(parser)
    (tmp_path / "a.jsonl").write_text("{}\n")
    args = parser.parse_args(["--level", "loud", str(tmp_path / "a.jsonl")])
    assert cli_tui.run(args) == 2
    assert "loud" in capsys.readouterr().err


def test_cli_rejects_a_malformed_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--header without K=V is an error that names the bad value."""
    parser = argparse.ArgumentParser()
    cli_tui.add_arguments(parser)
    (tmp_path / "a.jsonl").write_text("{}\n")
    args = parser.parse_args(["--header", "novalue", str(tmp_path / "a.jsonl")])
    assert cli_tui.run(args) == 2
    assert "novalue" in capsys.readouterr().err
