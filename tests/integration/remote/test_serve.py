"""``agent-tui serve`` as clients see it: listing, wire, cursors, resume, security, slow clients."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import aiohttp
import orjson

from agent_tui.serve import CLIENTS, ServeConfig
from tests.integration.remote.conftest import REPO, NumberedWriter, running_app, wait_for


async def _get(url: str, **headers: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, await response.read()


def _records(body: bytes) -> list[dict[str, object]]:
    return [o for o in map(orjson.loads, body.splitlines()) if "source" in o]


def _sse_events(body: bytes) -> list[dict[str, str]]:
    events = []
    for block in body.decode().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line and not line.startswith(":"):
                key, _, value = line.partition(": ")
                fields[key] = value
        if "data" in fields:
            events.append(fields)
    return events


async def test_sources_lists_only_live_logs_inside_the_directory(tmp_path: Path) -> None:
    """Listing shows live log files (nested too) but not rotated, non-log or escaping symlinked files."""
    root = tmp_path / "logs"
    (root / "sub").mkdir(parents=True)
    for name in ("a.jsonl", "sub/b.log", "a.jsonl.1", "notes.txt"):
        (root / name).write_bytes(b'{"x":1}\n')
    (tmp_path / "secret.jsonl").write_bytes(b"secret\n")
    os.symlink(tmp_path / "secret.jsonl", root / "out.jsonl")
    async with running_app(ServeConfig(root=root)) as (base, _):
        status, body = await _get(base + "/api/sources")
        health_status, health = await _get(base + "/healthz")
    assert status == 200
    assert [s["source"] for s in orjson.loads(body)["sources"]] == ["a.jsonl", "sub/b.log"]
    assert health_status == 200 and orjson.loads(health)["status"] == "ok"


async def test_paths_that_leave_the_directory_are_refused(tmp_path: Path) -> None:
    """``..``, absolute paths and symlinks pointing outside are answered 403 and never read."""
    root = tmp_path / "logs"
    root.mkdir()
    (tmp_path / "secret.jsonl").write_bytes(b"top secret\n")
    os.symlink(tmp_path / "secret.jsonl", root / "out.jsonl")
    async with running_app(ServeConfig(root=root)) as (base, _):
        for bad in ("../secret.jsonl", "/etc/passwd", "out.jsonl", "a/../../secret.jsonl"):
            status, body = await _get(f"{base}/api/stream?follow=0&source={bad}")
            assert status == 403, bad
            assert b"top secret" not in body


async def test_token_is_required_on_every_request_when_set(tmp_path: Path) -> None:
    """With a token, requests without it or with a wrong one get 401; the right bearer token gets 200."""
    async with running_app(ServeConfig(root=tmp_path, token="s3cret")) as (base, _):
        assert (await _get(base + "/healthz"))[0] == 401
        assert (await _get(base + "/api/sources", Authorization="Bearer wrong"))[0] == 401
        assert (await _get(base + "/api/sources", Authorization="Bearer s3cret"))[0] == 200


def test_cli_refuses_a_public_bind_without_a_token(tmp_path: Path) -> None:
    """``serve --host 0.0.0.0`` without a token exits 2 and says why, before binding anything."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("AGENT_TUI_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "agent_tui", "serve", str(tmp_path), "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "without a token" in result.stderr


async def test_wire_records_carry_cursor_and_the_original_line_losslessly(tmp_path: Path) -> None:
    """JSON objects come back verbatim, plain text as a string, non-UTF-8 as base64, each with a cursor."""
    lines = [b'{"b": 2,  "a": [1, 2.50]}', b"plain text \x1b[31m", b"\xff\xfe broken", b'"just a string"']
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        status, body = await _get(base + "/api/stream?follow=0")
    assert status == 200
    wire = body.splitlines()
    assert wire[1].endswith(b',"line":' + lines[0] + b"}")
    records = _records(body)
    decoded = [base64.b64decode(str(r["line_b64"])) if "line_b64" in r else r["line"] for r in records]
    assert decoded == [orjson.loads(lines[0]), "plain text \x1b[31m", lines[2], '"just a string"']
    ends = [int(str(r["cursor"]).rsplit(":", 1)[1]) for r in records]
    assert ends == [sum(len(x) + 1 for x in lines[: i + 1]) for i in range(len(lines))]
    assert orjson.loads(wire[-1])["type"] == "end"


async def test_sse_last_event_id_resumes_exactly_across_sources(tmp_path: Path) -> None:
    """Reconnecting with the last SSE id yields exactly the events not yet seen, over several files."""
    for name in ("a.jsonl", "b.jsonl"):
        NumberedWriter(tmp_path, name).write(50)
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        _, body = await _get(base + "/api/events?follow=0")
        events = [e for e in _sse_events(body) if "id" in e]
        assert len(events) == 100
        cut = events[37]["id"]
        NumberedWriter(tmp_path, "b.jsonl", written=50).write(10)
        _, rest = await _get(base + "/api/events?follow=0", **{"Last-Event-ID": cut})
    seen = [(e["data"]) for e in events[:38]]
    resumed = [e["data"] for e in _sse_events(rest) if "id" in e]
    everything = {(orjson.loads(d)["source"], orjson.loads(d)["line"]["n"]) for d in seen + resumed}
    assert len(seen) + len(resumed) == 110 == len(everything)


async def test_cursor_resume_is_exact_across_rename_rotations(tmp_path: Path) -> None:
    """History starts at the oldest rotated file; a cursor taken before rotations resumes at the next line."""
    writer = NumberedWriter(tmp_path, rotate_every=25)
    writer.write(40)
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        _, body = await _get(base + "/api/stream?follow=0")
        first = _records(body)
        cursor = str(first[-1]["cursor"])
        writer.write(100)
        _, rest = await _get(f"{base}/api/stream?follow=0&cursor={cursor}")
    numbers = [r["line"]["n"] for r in first + _records(rest)]  # type: ignore[index]
    assert len(first) == 40
    assert numbers == list(range(140))


async def test_cursor_names_every_open_file_so_late_appends_to_a_rotated_file_resume_exactly(
    tmp_path: Path,
) -> None:
    """A writer still appending to the renamed file: each resume (by cursor, then by the last SSE id alone)
    gets exactly its late lines and the new file's, because positions name both files."""

    def line(n: int) -> bytes:
        return orjson.dumps({"event": "tick", "n": n}) + b"\n"

    live = tmp_path / "app.jsonl"
    late = os.open(live, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    got: list[int] = []
    try:
        os.write(late, b"".join(map(line, range(5))))
        async with running_app(ServeConfig(root=tmp_path)) as (base, _):
            _, body = await _get(base + "/api/stream?follow=0")
            got.extend(r["line"]["n"] for r in _records(body))  # type: ignore[index]
            cursor = str(orjson.loads(body.splitlines()[-1])["cursor"])
            live.rename(tmp_path / "app.jsonl.1")
            live.write_bytes(b"".join(map(line, range(5, 10))))
            os.write(late, line(100))
            _, sse = await _get(base + "/api/events?follow=0", **{"Last-Event-ID": cursor})
            events = [e for e in _sse_events(sse) if "id" in e]
            got.extend(orjson.loads(e["data"])["line"]["n"] for e in events)
            last_id = events[-1]["id"]
            assert last_id.count("app.jsonl:") == 2
            os.write(late, line(101))
            with live.open("ab") as out:
                out.write(line(10))
            _, body = await _get(f"{base}/api/stream?follow=0&cursor={quote(last_id)}")
            got.extend(r["line"]["n"] for r in _records(body))  # type: ignore[index]
    finally:
        os.close(late)
    assert sorted(got) == [*range(11), 100, 101]
    assert got.index(100) < got.index(5)  # the older file's lines come first


async def test_lines_parameter_starts_at_the_last_n_lines(tmp_path: Path) -> None:
    """``?lines=3`` sends only the last three complete lines; ``?lines=0`` sends none of the history."""
    NumberedWriter(tmp_path).write(10)
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        _, three = await _get(base + "/api/stream?follow=0&lines=3")
        _, none = await _get(base + "/api/stream?follow=0&lines=0")
    assert [r["line"]["n"] for r in _records(three)] == [7, 8, 9]  # type: ignore[index]
    assert _records(none) == []


async def test_idle_streams_get_heartbeats(tmp_path: Path) -> None:
    """A followed stream with nothing new sends heartbeat objects at the configured interval."""
    NumberedWriter(tmp_path).write(1)
    async with (
        running_app(ServeConfig(root=tmp_path, heartbeat=0.1)) as (base, _),
        aiohttp.ClientSession() as session,
        session.get(base + "/api/stream") as response,
    ):
        kinds = []
        while kinds.count("heartbeat") < 3:
            kinds.append(orjson.loads(await response.content.readline()).get("type", "record"))
    assert kinds[:2] == ["start", "record"]


async def test_stalled_client_is_dropped_with_a_reason_and_others_are_unaffected(tmp_path: Path) -> None:
    """A client that stops reading keeps a bounded buffer and is dropped with a reason; a reader gets all."""
    pad = b"x" * 1000
    (tmp_path / "big.jsonl").write_bytes(b"".join(b'{"n":%d,"pad":"%s"}\n' % (i, pad) for i in range(20_000)))
    config = ServeConfig(root=tmp_path, stall_timeout=0.5, buffer_limit=32 * 1024, chunk_bytes=32 * 1024)
    async with running_app(config) as (base, app):
        port = int(base.rsplit(":", 1)[1])
        stalled = socket.create_connection(("127.0.0.1", port))
        stalled.sendall(b"GET /api/stream?follow=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        await wait_for(lambda: len(app[CLIENTS]) == 1, what="the stalled client to connect")
        clients = list(app[CLIENTS])
        other = asyncio.create_task(_get(base + "/api/stream?follow=0"))
        await wait_for(lambda: bool(clients[0].closing_reason), what="the stalled client to be given up on")
        stalled.setblocking(False)
        received = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                chunk = stalled.recv(1 << 20)
            except BlockingIOError:
                await asyncio.sleep(0.01)
                continue
            if not chunk:
                break
            received += chunk
        stalled.close()
        _, body = await other
        await wait_for(lambda: not app[CLIENTS], what="the stalled client to be dropped")
    assert len(_records(body)) == 20_000
    assert clients[0].high_water <= config.buffer_limit + 2 * config.chunk_bytes
    assert b'"reason":"stalled' in received


async def test_filter_is_applied_server_side_and_bad_filters_get_400_with_column(tmp_path: Path) -> None:
    """``?filter=`` sends only matching records; a malformed filter is a 400 JSON error with its column."""
    rows = [("info", "a", "x"), ("error", "b", "x"), ("error", "c", "y"), ("debug", "d", "y")]
    lines = [
        orjson.dumps({"ts": "2026-03-04T03:21:44.312Z", "level": lvl, "event": ev, "agent_id": agent})
        for lvl, ev, agent in rows
    ]
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        params = "follow=0&filter=" + quote('level >= error and agent_id == "y"')
        status, body = await _get(f"{base}/api/stream?{params}")
        bad_status, bad = await _get(f"{base}/api/stream?filter=" + quote("level >= "))
        trace_status, _ = await _get(f"{base}/api/stream?filter=" + quote("trace:(level >= error)"))
    assert status == 200
    assert [r["line"]["event"] for r in _records(body)] == ["c"]  # type: ignore[index]
    assert bad_status == 400
    error = orjson.loads(bad)
    assert error["column"] >= 9 and error["error"]
    assert trace_status == 400


async def test_since_backfills_only_records_at_or_after_the_time(tmp_path: Path) -> None:
    """``?since=`` (RFC 3339 or epoch seconds) starts each source at records that recent."""
    lines = [orjson.dumps({"ts": f"2026-03-04T03:00:0{i}Z", "event": f"e{i}"}) for i in range(6)]
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        _, rfc = await _get(f"{base}/api/stream?follow=0&since=2026-03-04T03:00:04Z")
        _, epoch = await _get(f"{base}/api/stream?follow=0&since=1772593203")
    assert [r["line"]["event"] for r in _records(rfc)] == ["e4", "e5"]  # type: ignore[index]
    assert [r["line"]["event"] for r in _records(epoch)] == ["e3", "e4", "e5"]  # type: ignore[index]


async def test_odd_source_names_round_trip_through_cursors(tmp_path: Path) -> None:
    """Names with %, spaces, commas, colons and quotes stay intact in records and resume cursors."""
    name = 'we%ird, na:me "x".jsonl'
    NumberedWriter(tmp_path, name).write(3)
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        _, body = await _get(base + "/api/stream?follow=0")
        first = _records(body)
        _, rest = await _get(f"{base}/api/stream?follow=0&cursor={quote(str(first[0]['cursor']))}")
    assert [r["source"] for r in first] == [name] * 3
    assert [r["line"]["n"] for r in _records(rest)] == [1, 2]  # type: ignore[index]


async def test_bad_cursors_are_400_and_accept_header_selects_sse(tmp_path: Path) -> None:
    """A malformed cursor is a 400 JSON error; ``Accept: text/event-stream`` on /api/stream gives SSE."""
    NumberedWriter(tmp_path).write(2)
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        status, body = await _get(base + "/api/stream?cursor=not-a-cursor")
        async with (
            aiohttp.ClientSession() as session,
            session.get(base + "/api/stream?follow=0", headers={"Accept": "text/event-stream"}) as response,
        ):
            kind = response.headers["Content-Type"]
            events = _sse_events(await response.read())
    assert status == 400 and "cursor" in orjson.loads(body)["error"]
    assert kind.startswith("text/event-stream")
    assert [e.get("event", "message") for e in events] == ["start", "message", "message", "end"]


async def test_per_client_rate_and_client_count_are_bounded(tmp_path: Path) -> None:
    """A client cannot read faster than ``rate_limit`` bytes/s, and streams beyond ``max_clients`` get 503."""
    pad = b"y" * 1000
    (tmp_path / "big.jsonl").write_bytes(b"".join(b'{"n":%d,"pad":"%s"}\n' % (i, pad) for i in range(1000)))
    config = ServeConfig(root=tmp_path, rate_limit=400_000, chunk_bytes=64 * 1024, max_clients=1)
    async with running_app(config) as (base, app):
        started = time.monotonic()
        first = asyncio.create_task(_get(base + "/api/stream?follow=0"))
        await wait_for(lambda: len(app[CLIENTS]) == 1, what="the first client")
        second_status, second = await _get(base + "/api/stream?follow=0")
        status, body = await first
        elapsed = time.monotonic() - started
    assert status == 200 and len(_records(body)) == 1000
    assert elapsed >= 1.5
    assert second_status == 503 and b"too many clients" in second


async def test_resume_over_hundreds_of_files_with_long_cursors(tmp_path: Path) -> None:
    """A cursor naming 300 files (over 8 KiB) is accepted in the header and the query, and resumes exactly."""
    writers = [NumberedWriter(tmp_path, f"agent-{i:03d}.jsonl") for i in range(300)]
    for writer in writers:
        writer.write(1)
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        _, body = await _get(base + "/api/events?follow=0")
        cursor = [e["id"] for e in _sse_events(body) if "id" in e][-1]
        for writer in writers:
            writer.write(1)
        _, by_header = await _get(base + "/api/stream?follow=0", **{"Last-Event-ID": cursor})
        _, by_query = await _get(f"{base}/api/stream?follow=0&cursor={quote(cursor)}")
    assert len(cursor) > 8192
    assert [r["line"]["n"] for r in _records(by_header)] == [1] * 300  # type: ignore[index]
    assert _records(by_query) == _records(by_header)
