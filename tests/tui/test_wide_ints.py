"""Integers wider than 64 bits (wei amounts, big ids) in the TUI: filtered, shown and copied exactly."""

from __future__ import annotations

import json

import orjson

from agent_tui.tui.app import AgentTuiApp

from .conftest import T0, Build, apply_filter, screen_text, until

WEI = 123456789012345678901234567890
"""Nearest float: 123456789012345677877719597056 (orjson's reading), which the checks below would catch."""


def wide_lines() -> list[bytes]:
    """Three transfers: WEI, WEI + 1 and 10**18, the first with a 29-digit transaction id.

    Written with the stdlib json module: orjson refuses to write such integers at all.
    """
    rows = [(1, WEI, 98765432109876543210987654321), (2, WEI + 1, 5), (3, 10**18, 7)]
    return [
        json.dumps(
            {
                "ts": f"2026-03-04T00:00:0{s}.000Z",
                "level": "info",
                "event": "transfer",
                "amount_wei": wei,
                "tx_id": tx,
            },
            separators=(",", ":"),
        ).encode()
        for s, wei, tx in rows
    ]


def _selected_ts(app: AgentTuiApp) -> float | None:
    seq = app.logs.selected_seq
    return None if seq is None else app.model.store.record(seq).ts


def _selected_tx(app: AgentTuiApp) -> object:
    seq = app.logs.selected_seq
    return None if seq is None else orjson.loads(app.model.store.raw(seq))["tx_id"]


async def test_wide_integers_filter_show_and_copy_exactly(build: Build) -> None:
    """== and > on a 30-digit literal pick one row each; row, detail pane and copy show every digit."""
    app, source = build(follow=False)
    async with app.run_test(notifications=True, size=(140, 30)) as pilot:
        source.push(wide_lines())
        await until(pilot, lambda: app.logs.row_count == 3)
        await apply_filter(pilot, app, f"amount_wei == {WEI}")
        await until(pilot, lambda: app.logs.row_count == 1)
        await until(pilot, lambda: _selected_ts(app) == T0 + 1)
        await until(pilot, lambda: f"amount_wei={WEI}" in screen_text(app))
        assert "tx_id=98765432109876543210987654321" in screen_text(app)
        await pilot.press("d")
        await until(pilot, lambda: f"amount_wei: {WEI}" in screen_text(app))
        assert app.detail.document["amount_wei"] == WEI
        await pilot.press("tab")
        await until(pilot, lambda: app.focused is app.detail)
        node = next(n for n in app.detail.root.children if n.data is not None and n.data[0] == ".amount_wei")
        app.detail.move_cursor(node)
        await pilot.press("c")
        await until(pilot, lambda: app.clipboard == str(WEI))
        await pilot.press("tab")
        await until(pilot, lambda: app.focused is app.logs)
        await apply_filter(pilot, app, f"amount_wei > {WEI}")
        await until(pilot, lambda: app.filter_text == f"amount_wei > {WEI}" and app.logs.row_count == 1)
        await until(pilot, lambda: _selected_tx(app) == 5)
