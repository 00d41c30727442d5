"""The loki:// source and the read side of the Loki fake (Loki 3.7 shapes), with real HTTP and websockets."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from agent_tui.cli.tui import open_pushed_down
from agent_tui.log import LokiHandler, get_logger
from agent_tui.model.query.logql import push_down, split_selector
from agent_tui.sources.base import SourceState
from agent_tui.sources.http import Backoff
from agent_tui.sources.loki import LokiSource
from agent_tui.sources.options import SourceOptions
from tests.fakes.loki import LokiFake
from tests.fakes.loki_read import LokiRead, add_read_routes
from tests.integration.remote.conftest import Collector, wait_for

FAST = Backoff(initial=0.05, factor=2.0, maximum=0.3)
NOW_NS = time.time_ns()


@pytest.fixture
async def loki() -> AsyncIterator[tuple[LokiFake, LokiRead]]:
    fake = LokiFake()
    read = add_read_routes(fake, live_delay=0.02)
    await fake.start()
    yield fake, read
    await fake.stop()


async def push(fake: LokiFake, streams: list[dict[str, Any]], **headers: str) -> None:
    """POST a push body to the fake like any client would."""
    body = orjson.dumps({"streams": streams})
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            fake.url + "/loki/api/v1/push", data=body, headers={"Content-Type": "application/json", **headers}
        ) as r,
    ):
        assert r.status == 204, await r.text()


def entries(n: int, start: int = 0, step_ns: int = 1_000_000, agent: str = "a1") -> dict[str, Any]:
    values = [
        [
            str(NOW_NS - 600_000_000_000 + (start + i) * step_ns),
            orjson.dumps({"event": "tick", "n": start + i}).decode(),
            {"trace_id": f"t{(start + i) % 3}"},
        ]
        for i in range(n)
    ]
    return {"stream": {"service": "casino-agent", "agent_id": agent}, "values": values}


def _url(fake: LokiFake, query: str = '{service="casino-agent"}', extra: str = "") -> str:
    return f"loki://{fake.url.removeprefix('http://')}?query={query}{extra}"


async def _get(url: str, **headers: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as r:
        return r.status, await r.read()


async def test_fake_query_range_merges_metadata_unless_categorize_labels(
    loki: tuple[LokiFake, LokiRead],
) -> None:
    """query_range returns streams/values of [ns, line]; metadata merges into stream unless categorized."""
    fake, _ = loki
    await push(fake, [entries(4)])
    start = NOW_NS - 3_600_000_000_000
    url = f'{fake.url}/loki/api/v1/query_range?query={{agent_id="a1"}}&start={start}&direction=forward'
    status, body = await _get(url)
    data = orjson.loads(body)["data"]
    assert status == 200 and data["resultType"] == "streams"
    assert {s["stream"]["trace_id"] for s in data["result"]} == {"t0", "t1", "t2"}
    assert all(len(v) == 2 and isinstance(v[0], str) for s in data["result"] for v in s["values"])
    _, body = await _get(url, **{"X-Loki-Response-Encoding-Flags": "categorize-labels"})
    data = orjson.loads(body)["data"]
    assert data["encodingFlags"] == ["categorize-labels"]
    assert len(data["result"]) == 1 and "trace_id" not in data["result"][0]["stream"]
    assert data["result"][0]["values"][0][2]["structuredMetadata"]["trace_id"] == "t0"
    status, text = await _get(f'{fake.url}/loki/api/v1/query_range?query={{agent_id="a1"')
    assert status == 400 and text.startswith(b"parse error at line 1, col")


async def test_fake_tail_replays_merged_then_sends_live_entries_without_metadata(
    loki: tuple[LokiFake, LokiRead],
) -> None:
    """The tail websocket replays with metadata merged, then live frames carry only indexed labels."""
    fake, read = loki
    await push(fake, [entries(2)])
    url = (
        fake.url.replace("http", "ws")
        + f'/loki/api/v1/tail?query={{agent_id="a1"}}&start={NOW_NS - 3_600_000_000_000}'
    )
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        replay = orjson.loads((await ws.receive()).data)
        await push(fake, [entries(1, start=2)])
        live = orjson.loads((await ws.receive()).data)
        read.drop_next_live = 1
        await push(fake, [entries(2, start=3)])
        dropped = orjson.loads((await ws.receive()).data)
    assert [s["stream"].get("trace_id") for s in replay["streams"]] == ["t0", "t1"]
    assert "dropped_entries" not in replay and "dropped_entries" not in live
    assert live["streams"][0]["stream"] == {
        "service": "casino-agent",
        "agent_id": "a1",
        "service_name": "casino-agent",
    }
    assert len(dropped["dropped_entries"]) == 1 and len(dropped["streams"]) == 1


async def test_backfill_pages_by_time_in_order_without_duplicates(loki: tuple[LokiFake, LokiRead]) -> None:
    """Paged forward query_range over 3 streams with identical same-ns entries yields each entry once."""
    fake, _ = loki
    await push(
        fake,
        [entries(900, agent="a1"), entries(900, agent="a2"), entries(700, agent="a3", step_ns=1_000_000)],
    )
    collector = Collector(LokiSource(_url(fake, extra="&page=250"), SourceOptions())).start()
    await wait_for(lambda: any(s.state is SourceState.DONE for s in collector.statuses), what="done")
    await collector.stop()
    got = [(int(c), line) for b in collector.batches for c, line in zip(b.cursors, b.lines, strict=True)]
    assert len(got) == 2500
    copies = Counter(got)
    assert all(copies[key] == (3 if orjson.loads(key[1])["n"] < 700 else 2) for key in copies)
    assert [ts for ts, _ in got] == sorted(ts for ts, _ in got)


async def test_follow_resumes_after_tail_drops_without_gaps_or_duplicates(
    loki: tuple[LokiFake, LokiRead],
) -> None:
    """Cutting the tail websocket repeatedly while entries arrive loses and repeats nothing."""
    fake, read = loki
    await push(fake, [entries(100)])
    source = LokiSource(_url(fake), SourceOptions(follow=True), backoff=FAST)
    collector = Collector(source).start()
    await wait_for(lambda: len(collector.lines) >= 100, what="backfill")
    for round_ in range(5):
        await push(fake, [entries(60, start=100 + round_ * 60)])
        await wait_for(lambda r=round_: len(collector.lines) >= 130 + r * 60, what="live entries")
        await wait_for(lambda: bool(read.tails), what="an open tail")
        await read.close_tails()
    await push(fake, [entries(40, start=400)])
    await wait_for(lambda: len(collector.lines) >= 440, what="every entry")
    await asyncio.sleep(0.2)
    await collector.stop()
    assert collector.numbers() == list(range(440))
    assert sum(s.state is SourceState.RECONNECTING for s in collector.statuses) >= 5


async def test_tenant_and_token_are_sent(loki: tuple[LokiFake, LokiRead]) -> None:
    """X-Scope-OrgID selects the tenant's entries and the bearer token is sent on every request."""
    fake, _ = loki
    fake.auth_enabled = True
    fake.required_headers = {"Authorization": "Bearer tok"}
    await push(fake, [entries(3)], **{"X-Scope-OrgID": "team-a", "Authorization": "Bearer tok"})
    await push(fake, [entries(5, start=3)], **{"X-Scope-OrgID": "team-b", "Authorization": "Bearer tok"})
    ok = Collector(LokiSource(_url(fake, extra="&tenant=team-b"), SourceOptions(token="tok"))).start()
    denied = Collector(LokiSource(_url(fake, extra="&tenant=team-b"), SourceOptions(token="nope"))).start()
    await wait_for(lambda: bool(ok.statuses) and bool(denied.statuses), what="both sources to finish")
    await ok.stop()
    await denied.stop()
    assert ok.numbers() == [3, 4, 5, 6, 7]
    assert denied.statuses[-1].state is SourceState.ERROR and "401" in denied.statuses[-1].reason


async def test_bad_logql_is_an_error_status_with_lokis_message(loki: tuple[LokiFake, LokiRead]) -> None:
    """A query Loki rejects ends the source with the plain-text parse error as the reason."""
    fake, _ = loki
    collector = Collector(LokiSource(_url(fake, query='{service="x"} |= '), SourceOptions())).start()
    await wait_for(lambda: bool(collector.statuses), what="a status")
    await collector.stop()
    assert collector.statuses[-1].state is SourceState.ERROR
    assert "parse error at line 1" in collector.statuses[-1].reason


def test_filter_pushdown_keeps_the_users_pipeline_and_adds_sound_stages() -> None:
    """Pushdown adds line filters (and opted-in label matchers) after the user's own selector and stages."""
    assert split_selector('{a="x,}", b=~`y`} |= "q"') == (['a="x,}"', "b=~`y`"], '|= "q"')
    plain = push_down('{service="s"} != "debug"', 'event == "bet.failed"')
    assert plain == '{service="s"} != "debug" |= "bet.failed"'
    labelled = push_down('{service="s"}', 'agent_id == "a1" and "boom"', labels=("agent_id",))
    assert labelled.startswith('{service="s", agent_id="a1"}') and "boom" in labelled
    assert push_down('{service="s"}', "level >= ") == '{service="s"}'


async def test_filter_is_pushed_down_to_loki(loki: tuple[LokiFake, LokiRead]) -> None:
    """With a filter the TUI's opener hands the source a LogQL asking Loki only for lines that can match."""
    fake, _ = loki
    await push(fake, [entries(30)])
    collector = Collector(
        open_pushed_down(_url(fake), SourceOptions(filter_text='n == 7 or "n\\":17"'))
    ).start()
    await wait_for(lambda: bool(collector.statuses), what="done")
    await collector.stop()
    assert len(collector.lines) == 30
    narrowed = Collector(open_pushed_down(_url(fake), SourceOptions(filter_text='"\\"n\\":17"'))).start()
    await wait_for(lambda: bool(narrowed.statuses), what="done")
    await narrowed.stop()
    assert narrowed.numbers() == [17]


async def test_records_shipped_by_loki_handler_come_back_identical(loki: tuple[LokiFake, LokiRead]) -> None:
    """Lines LokiHandler pushes into the fake come back byte-identical and in order through loki://."""
    fake, _ = loki
    handler = LokiHandler(fake.url, agent_id="agent-7", service="casino-agent", batch_max_age=0.05)
    log = get_logger("remote.loki.roundtrip")
    log.handlers = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    for i in range(50):
        log.info("bet.placed", extra={"n": i, "amount_usdc": 1.25, "note": 'ünïcode "quoted"'})
    log.error("bet.failed", extra={"n": 50})
    await asyncio.to_thread(handler.flush, 10)
    handler.close()
    collector = Collector(LokiSource(_url(fake), SourceOptions())).start()
    await wait_for(lambda: bool(collector.statuses), what="done")
    await collector.stop()
    assert len(fake.entries) == 51
    assert collector.lines == [e.line.encode() for e in sorted(fake.entries, key=lambda e: int(e.ts))]
    assert collector.numbers() == list(range(51))
    last = orjson.loads(collector.lines[-1])
    assert last["event"] == "bet.failed" and last["level"] == "error" and last["agent_id"] == "agent-7"
    assert orjson.loads(collector.lines[0])["note"] == 'ünïcode "quoted"'


async def test_loki_server_errors_are_retried_with_backoff(loki: tuple[LokiFake, LokiRead]) -> None:
    """A 500 from query_range shows as reconnecting with Loki's reason, then the history arrives once."""
    fake, read = loki
    await push(fake, [entries(20)])
    read.read_fault = 500
    collector = Collector(LokiSource(_url(fake), SourceOptions(), backoff=FAST)).start()
    await wait_for(lambda: any(s.state is SourceState.RECONNECTING for s in collector.statuses), what="retry")
    read.read_fault = None
    await wait_for(lambda: any(s.state is SourceState.DONE for s in collector.statuses), what="done")
    await collector.stop()
    assert "Loki HTTP 500" in collector.statuses[0].reason
    assert collector.numbers() == list(range(20))
