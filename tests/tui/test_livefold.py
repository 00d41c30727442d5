"""The live fold hands batches out in arrival order, whichever process parsed them."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from agent_tui.model.clock import FrozenClock
from agent_tui.model.session import LogModel
from agent_tui.sources.base import LineBatch
from agent_tui.tui.inbox import BatchInbox
from agent_tui.tui.livefold import LiveFold
from tests.unit.model.test_live_ingest import _batches, _signal_lines, _summary

DEADLINE_S = 60.0


def _two_sources(tmp_path: Path) -> list[LineBatch]:
    """A fast source's big live batches interleaved with single lines of another file's history (which
    stay in-process: only live batches go to the worker)."""
    fast_lines = _signal_lines() * 30
    slow_lines = [
        b'{"ts":"2026-03-04T03:22:%02dZ","level":"error","event":"slow.%d"}' % (i % 60, i) for i in range(40)
    ]
    fast_path, slow_path = tmp_path / "fast.jsonl", tmp_path / "slow.jsonl"
    for path, lines in ((fast_path, fast_lines), (slow_path, slow_lines)):
        path.write_bytes(b"".join(line + b"\n" for line in lines))
    fast = [
        LineBatch(b.source, b.lines, b.offsets, b.file_id, b.path, live=True)
        for b in _batches(fast_path, fast_lines, 300)
    ]
    slow = list(_batches(slow_path, slow_lines, 1))
    out: list[LineBatch] = []
    for k in range(max(len(fast), len(slow))):
        out += fast[k : k + 1] + slow[k : k + 1]
    return out


def _in_process(batches: list[LineBatch]) -> dict[str, Any]:
    """The summary of a model that ingested ``batches`` in-process, in order."""
    with LogModel(clock=FrozenClock(0.0), following=True) as local:
        for batch in batches:
            local.ingest(batch)
        return _summary(local)


def _fold() -> tuple[asyncio.Event, BatchInbox, LiveFold]:
    """A live fold on an unbounded inbox whose sources go to the worker past 500 queued lines."""
    arrived = asyncio.Event()
    inbox = BatchInbox(max_lines=1 << 30)
    return arrived, inbox, LiveFold(inbox, arrived.set, backlog_lines=500)


async def _worker_ready(fold: LiveFold, arrived: asyncio.Event) -> None:
    while fold.worker is None or not fold.worker.ready:
        await arrived.wait()
        arrived.clear()


async def test_batches_come_out_in_arrival_order_with_the_records_of_in_process_parsing(
    tmp_path: Path,
) -> None:
    """Two sources, one sent to the worker and one parsed in-process, interleaved: every batch is handed
    out once, in inbox order, and the model holds what in-process ingest of that order gives."""
    batches = _two_sources(tmp_path)
    expected = _in_process(batches)
    arrived, inbox, fold = _fold()
    taken: list[tuple[str, bytes]] = []
    local = 0
    with LogModel(clock=FrozenClock(0.0), following=True) as model:
        try:
            fold.warm(model)
            async with asyncio.timeout(DEADLINE_S):
                await _worker_ready(fold, arrived)
                for batch in batches:
                    await inbox.put(batch)
                while len(taken) < len(batches):
                    item = fold.take(model, allow_worker=True)
                    if item is None:
                        await arrived.wait()
                        arrived.clear()
                        continue
                    batch, parsed = item
                    taken.append((batch.source, batch.lines[0]))
                    if parsed is None:
                        model.ingest(batch)
                        local += 1
                    else:
                        model.ingest_parsed(batch, parsed)
            assert fold.sent_lines > 0 and local > 0
            assert fold.take(model, allow_worker=True) is None and fold.pending_lines == 0
            assert taken == [(b.source, b.lines[0]) for b in batches]
            assert _summary(model) == expected
        finally:
            fold.close()


async def test_a_parser_state_that_cannot_travel_keeps_parsing_in_process(tmp_path: Path) -> None:
    """A parser holding something that cannot be pickled: the worker is given up, nothing is lost, the
    records are those of in-process ingest."""
    batches = _two_sources(tmp_path)
    expected = _in_process(batches)
    arrived, inbox, fold = _fold()
    with LogModel(clock=FrozenClock(0.0), following=True) as model:
        model.ingest(batches[0])
        model._parser(model.store.source_id(batches[0].source)).lock = threading.Lock()  # type: ignore[attr-defined]
        try:
            fold.warm(model)
            async with asyncio.timeout(DEADLINE_S):
                await _worker_ready(fold, arrived)
                for batch in batches[1:]:
                    await inbox.put(batch)
                while (item := fold.take(model, allow_worker=True)) is not None:
                    batch, parsed = item
                    assert parsed is None
                    model.ingest(batch)
            assert fold.worker.ended
            assert fold.pending_lines == 0
            assert _summary(model) == expected
        finally:
            fold.close()
