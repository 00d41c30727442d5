"""The live parse worker: batches parsed in its process index exactly what in-process parsing does."""

from __future__ import annotations

import asyncio
import os
import pickle
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent_tui.model.clock import FrozenClock
from agent_tui.model.livebatch import LiveParsed, parse_shipped, unship
from agent_tui.model.liveparse import ParseWorker
from agent_tui.model.parsing.columns import from_columns
from agent_tui.model.parsing.parse import LineParser
from agent_tui.model.session import LogModel
from agent_tui.sources.base import LineBatch
from tests.unit.model.test_live_ingest import CASES, _batches, _spellings, _summary

DEADLINE_S = 30.0


async def _answer(worker: ParseWorker, ticket: int, arrived: asyncio.Event) -> LiveParsed:
    """Wait (woken by the worker, bounded) for the answer to ``ticket``."""
    async with asyncio.timeout(DEADLINE_S):
        while (parsed := worker.result(ticket)) is None:
            assert not worker.ended, "the worker ended"
            await arrived.wait()
            arrived.clear()
    return parsed


@pytest.fixture
async def worker() -> AsyncIterator[tuple[ParseWorker, asyncio.Event]]:
    """A started worker and the event its answers set."""
    arrived = asyncio.Event()
    parse_worker = ParseWorker(wake=arrived.set)
    parse_worker.start()
    try:
        yield parse_worker, arrived
    finally:
        parse_worker.close()


Pair = tuple[ParseWorker, asyncio.Event]


async def _alternating(
    model: LogModel, batches: list[LineBatch], run: int, pair: Pair, *, side: bool = True
) -> None:
    """Ingest ``run`` batches in-process, the next ``run`` through the worker, and so on (state carried)."""
    worker, arrived = pair
    ticket = 0
    for start in range(0, len(batches), run):
        chunk = batches[start : start + run]
        if (start // run) % 2 == 0:
            for batch in chunk:
                model.ingest(batch)
            continue
        source = model.store.source_id(chunk[0].source)
        state = model.parser_state(chunk[0].source)
        for k, batch in enumerate(chunk):
            ticket += 1
            worker.submit(ticket, source, state if k == 0 else None, batch.lines, side=side)
        parsed = None
        for k, batch in enumerate(chunk):
            parsed = await _answer(worker, ticket - len(chunk) + 1 + k, arrived)
            model.ingest_parsed(batch, parsed)
        assert parsed is not None
        model.resume_parser(chunk[0].source, parsed.state)


@pytest.mark.parametrize(("name", "lines"), CASES, ids=[c[0] for c in CASES])
async def test_worker_batches_index_as_in_process(
    tmp_path: Path, name: str, lines: list[bytes], worker: Pair
) -> None:
    """Both spellings, batches of 1 and 3 lines handed back and forth between the app and the worker
    (sums and signals worked out by the worker or left to the app): the same records (inferred times
    included), counts, trace sums and flags as parsing all in-process."""
    for spelling, spelled in _spellings(lines):
        path = tmp_path / f"{spelling}.jsonl"
        path.write_bytes(b"".join(line + b"\n" for line in spelled))
        for size, run, side in ((1, 2, True), (3, 1, True), (3, 1, False)):
            batches = list(_batches(path, spelled, size))
            with LogModel(clock=FrozenClock(0.0)) as local:
                for batch in batches:
                    local.ingest(batch)
                expected = _summary(local)
                expected["inferred"] = _borrowed_times(local)
            with LogModel(clock=FrozenClock(0.0)) as mixed:
                await _alternating(mixed, batches, run, worker, side=side)
                got = _summary(mixed)
                got["inferred"] = _borrowed_times(mixed)
            assert got == expected, (name, spelling, size, side)


def _borrowed_times(model: LogModel) -> list[float]:
    """Times of records that borrowed the previous record's (those before any timed line read the clock)."""
    records = [model.store.record(s) for s in range(model.store.end_seq)]
    first = next((k for k, r in enumerate(records) if not r.ts_inferred), len(records))
    return [r.ts for r in records[first:] if r.ts_inferred]


async def test_file_less_lines_are_spilled_and_read_back(worker: Pair) -> None:
    """Lines of a source without a file (stdin, http) parsed by the worker are kept in the spill file;
    a line holding a newline (sent as a list, not joined) parses as in-process."""
    line = b'{"ts":"2026-03-04T03:21:44Z","level":"error","event":"e%d","trace_id":"t1"}'
    lines = [line % i for i in range(5)]
    lines[3] = b'{"ts": "2026-03-04T03:21:45Z",\n "level": "critical", "event": "two rows"}'
    batches = [LineBatch("-", lines[:2]), LineBatch("-", lines[2:])]
    with LogModel(clock=FrozenClock(0.0)) as local:
        for batch in batches:
            local.ingest(batch)
        expected = _summary(local)
    with LogModel(clock=FrozenClock(0.0)) as model:
        await _alternating(model, batches, 1, worker)
        assert [model.store.raw(s) for s in range(5)] == lines
        assert _summary(model) == expected
        assert list(model.store.error_seqs()) == [0, 1, 2, 3, 4]


async def test_worker_is_reaped_by_close() -> None:
    """``close`` (what the app's exit does) terminates and reaps the worker, and it reports it ended."""
    arrived = asyncio.Event()
    worker = ParseWorker(wake=arrived.set)
    worker.start()
    async with asyncio.timeout(DEADLINE_S):
        while not worker.ready:
            assert not worker.ended
            await arrived.wait()
            arrived.clear()
    pid = worker.pid
    assert not _zombie_or_gone(pid)
    worker.close()
    assert worker.ended
    assert _zombie_or_gone(pid)


async def test_worker_exits_when_its_input_closes() -> None:
    """The worker ends by itself when the app's end of its pipe closes (an app killed outright)."""
    arrived = asyncio.Event()
    worker = ParseWorker(wake=arrived.set)
    worker.start()
    async with asyncio.timeout(DEADLINE_S):
        while not worker.ready:
            await arrived.wait()
            arrived.clear()
    os.close(worker._request_fd)  # what the kernel does to a killed app's descriptors
    worker._request_fd = -1
    proc = worker._proc
    assert proc is not None
    assert await asyncio.to_thread(proc.wait, DEADLINE_S) == 0
    worker.close()


def _zombie_or_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z" or not os.path.exists(f"/proc/{pid}")


async def test_field_overrides_reach_the_worker(tmp_path: Path) -> None:
    """``--field`` overrides are the worker's too: its records are those of an in-process parser with them."""
    line = b'{"when":"2026-03-04T03:21:%02dZ","sev":"%s","level":"info","what":"e%d","event":"x"}'
    lines = [line % (i, b"error" if i % 3 else b"warning", i) for i in range(30)]
    path = tmp_path / "renamed.jsonl"
    path.write_bytes(b"".join(x + b"\n" for x in lines))
    overrides = {"ts": "when", "level": "sev", "event": "what"}
    batches = list(_batches(path, lines, 4))
    with LogModel(clock=FrozenClock(0.0), overrides=overrides) as local:
        for batch in batches:
            local.ingest(batch)
        expected = _summary(local)
    assert {r[2] for r in expected["records"]} == {f"e{i}" for i in range(30)}
    arrived = asyncio.Event()
    with LogModel(clock=FrozenClock(0.0), overrides=overrides) as model:
        worker = model.parse_worker(arrived.set)
        worker.start()
        try:
            await _alternating(model, batches, 1, (worker, arrived))
        finally:
            worker.close()
        assert _summary(model) == expected


@pytest.mark.parametrize(("name", "lines"), CASES, ids=[c[0] for c in CASES])
def test_shipped_columns_come_back_as_the_parser_gave_them(name: str, lines: list[bytes]) -> None:
    """What a worker ships (pickled) unships into the columns the parser gave, flags and line index
    included, whether the batch has raw lines, borrowed times or several records on one line."""
    # Both read the same clock for lines before the first timed one.
    shipped = LineParser(None, now=lambda: 1.0e9)
    local = LineParser(None, now=lambda: 1.0e9)
    for start in range(0, len(lines), 7):
        batch = lines[start : start + 7]
        answer = pickle.loads(pickle.dumps(parse_shipped(shipped, None, batch, {})))
        expected = from_columns(0, local.parse_columns(batch), batch)
        if answer[0] is None:
            assert not expected.count
            continue
        got = unship(answer[0])
        for field in (
            "ts",
            "levels",
            "events",
            "trace_ids",
            "ops",
            "errors",
            "raws",
            "inferred",
            "line_index",
        ):
            assert list(getattr(got, field)) == list(getattr(expected, field)), (field, start)
        assert list(got.span_ids) == list(expected.span_ids)
        assert list(got.parent_ids) == list(expected.parent_ids)
        assert (got.one_per_line, got.ts_sorted, got.level_bytes) == (
            expected.one_per_line,
            expected.ts_sorted,
            expected.level_bytes,
        )
