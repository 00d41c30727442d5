"""The Loki fake answers pushes like Loki 3.7 (so the handler tests mean something)."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest

from tests.fakes.loki import LokiFake

NS = "1772594504312000000"


@pytest.fixture
async def fake() -> AsyncIterator[LokiFake]:
    server = LokiFake()
    await server.start()
    yield server
    await server.stop()


async def _post(fake: LokiFake, body: bytes, **headers: str) -> tuple[int, str]:
    headers.setdefault("Content-Type", "application/json")
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.url + "/loki/api/v1/push", data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.text()


def _body(values: list[list[object]], **labels: str) -> bytes:
    return orjson.dumps({"streams": [{"stream": labels or {"service": "svc"}, "values": values}]})


async def test_success_is_204_empty_and_adds_service_name_and_level(fake: LokiFake) -> None:
    """A valid push answers 204 with no body; entries get service_name and detected_level."""
    status, text = await _post(fake, _body([[NS, '{"level":"error"}', {"trace_id": "abc"}]], service="svc"))
    assert (status, text) == (204, "")
    entry = fake.entries[0]
    assert entry.labels == {"service": "svc", "service_name": "svc"}
    assert entry.metadata == {"trace_id": "abc", "detected_level": "error"}
    status, _ = await _post(fake, _body([[NS, "plain"]], app="x"))
    assert fake.entries[1].labels["service_name"] == "unknown_service"
    assert fake.entries[1].metadata["detected_level"] == "unknown"


async def test_content_type_and_encoding_rules(fake: LokiFake) -> None:
    """Non-JSON content types fail like protobuf+snappy; gzip works; br is refused."""
    body = _body([[NS, "x"]])
    assert await _post(fake, body, **{"Content-Type": "application/octet-stream"}) == (
        400,
        "snappy: corrupt input\n",
    )
    assert (await _post(fake, gzip.compress(body), **{"Content-Encoding": "gzip"}))[0] == 204
    assert (await _post(fake, body, **{"Content-Encoding": "br"}))[0] == 400


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"streams":[]}', 422),
        (b"{not json", 400),
        (_body([[1772594504312000000, "x"]]), 400),
        (_body([[NS, "x", {"n": 1}]]), 400),
        (_body([["1000", "x"]]), 500),
    ],
)
async def test_bad_pushes(fake: LokiFake, body: bytes, status: int) -> None:
    """Empty streams 422; malformed JSON, numeric ts, non-string metadata 400; ancient ts 500; text bodies."""
    got, text = await _post(fake, body)
    assert got == status
    assert text.strip()
    assert fake.entries == []


async def test_identical_entries_deduplicated(fake: LokiFake) -> None:
    """The same (ts, line) in the same stream is stored once; a different line at the same ts is kept."""
    await _post(fake, _body([[NS, "a"], [NS, "a"], [NS, "b"]]))
    await _post(fake, _body([[NS, "a"]]))
    assert fake.lines() == ["a", "b"]


async def test_faults_plain_429_without_retry_after_and_partial(fake: LokiFake) -> None:
    """429 is plain text without Retry-After; partial_429 stores part of a batch and still answers 429."""
    fake.fail("429", count=1)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            fake.url + "/loki/api/v1/push",
            data=_body([[NS, "x"]]),
            headers={"Content-Type": "application/json"},
        ) as resp,
    ):
        assert resp.status == 429
        assert "Retry-After" not in resp.headers
        assert "ingestion rate limit exceeded" in await resp.text()
    fake.fail("partial_429", count=1)
    status, text = await _post(fake, _body([[NS, "1"], ["1772594504312000001", "2"]]))
    assert status == 429
    assert "total ignored: 1 out of 2" in text
    assert fake.lines() == ["1"]
