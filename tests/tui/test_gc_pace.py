"""The growing index is frozen out of full garbage collections while lines arrive."""

from __future__ import annotations

import gc
from pathlib import Path

from agent_tui.sources.factory import open_source
from agent_tui.sources.options import SourceOptions
from agent_tui.tui.factory import make_app
from agent_tui.tui.gcpace import FREEZE_RECORDS, GcPacer

from .conftest import T0, line, until


async def test_following_a_burst_freezes_the_index_it_built(tmp_path: Path) -> None:
    """After more than FREEZE_RECORDS lines arrive while following, the heap holding them is frozen."""
    path = tmp_path / "live.jsonl"
    path.write_bytes(b"")
    count = FREEZE_RECORDS + 500
    app = make_app([open_source(str(path), SourceOptions(follow=True))], follow=True, environ={})
    async with app.run_test(size=(100, 20)) as pilot:
        await until(pilot, lambda: app.source_states[str(path)][0] == "following")
        gc.unfreeze()
        with path.open("ab") as out:
            out.write(b"\n".join(line(T0 + n, "info", "tick", n=n) for n in range(count)) + b"\n")
        await until(pilot, lambda: len(app.view) == count, limit=60)
        assert gc.get_freeze_count() > 0
    gc.unfreeze()


def test_a_disabled_collector_is_left_to_the_history_load() -> None:
    """While a history load has the collector off, nothing is collected or frozen behind its back."""
    pacer = GcPacer(every=10)
    gc.unfreeze()
    gc.disable()
    try:
        assert not pacer.grew(50)
        assert gc.get_freeze_count() == 0 and not gc.isenabled()
    finally:
        gc.enable()
    assert pacer.grew(10)
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
