"""The http(s):// source against real serve processes: exactly once, in order, through kills and stalls."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from agent_tui.serve import CLIENTS, ServeConfig
from agent_tui.serve.client import ClientWriter
from agent_tui.sources.base import SourceState
from agent_tui.sources.http import Backoff, HttpSource
from agent_tui.sources.options import SourceOptions
from tests.integration.remote.conftest import (
    BackgroundWriter,
    Collector,
    NumberedWriter,
    ServeProcess,
    numbered,
    running_app,
    wait_for,
)

FAST = Backoff(initial=0.05, factor=2.0, maximum=0.5)


async def test_follow_survives_server_kill_restart_and_stall_exactly_once(
    tmp_path: Path, serve_process: Callable[..., ServeProcess]
) -> None:
    """Killing, restarting and SIGSTOP-stalling the serve process loses and repeats no record, in order."""
    writer = NumberedWriter(tmp_path, rotate_every=700)
    server = serve_process(tmp_path, "--heartbeat", "0.2")
    url = server.start()
    background = BackgroundWriter(writer, total=3500, per_tick=25, interval=0.005).start()
    collector = Collector(HttpSource(url, SourceOptions(follow=True), backoff=FAST)).start()
    try:
        await wait_for(lambda: len(collector.lines) > 800, what="the first records")
        server.kill()
        await wait_for(
            lambda: any(s.state is SourceState.RECONNECTING for s in collector.statuses), what="reconnecting"
        )
        server.start()
        await wait_for(lambda: len(collector.lines) > 2000, what="records after the restart")
        server.signal(signal.SIGSTOP)
        await wait_for(lambda: any("stalled" in s.reason for s in collector.statuses), what="stall detection")
        server.signal(signal.SIGCONT)
        background.join()
        writer.write(500)
        await wait_for(lambda: len(collector.lines) >= 4000, deadline=60, what="every record")
    finally:
        await collector.stop()
    assert collector.numbers() == list(range(4000))
    assert collector.lines[0] == numbered(0)
    states = [s.state for s in collector.statuses]
    assert states[0] is SourceState.CONNECTED
    assert states.count(SourceState.CONNECTED) >= 3


async def test_cut_connections_resume_without_gap_or_duplicate(tmp_path: Path) -> None:
    """Aborting every client connection server-side over and over still delivers each line exactly once."""
    writer = NumberedWriter(tmp_path, rotate_every=500)
    config = ServeConfig(root=tmp_path, heartbeat=0.5)
    async with running_app(config) as (base, app):
        background = BackgroundWriter(writer, total=3000, per_tick=30, interval=0.005).start()
        collector = Collector(HttpSource(base, SourceOptions(follow=True), backoff=FAST)).start()
        try:
            # Cut at fixed points of progress, however far the reader has got meanwhile: a loaded machine
            # changes how many lines arrive between cuts, never how many cuts there are.
            for target in range(300, 3000, 300):
                await wait_for(lambda t=target: len(collector.lines) >= t, what="progress")
                await wait_for(lambda: bool(_live(app[CLIENTS])), what="a live connection")
                for transport in _live(app[CLIENTS]):
                    transport.abort()
            background.join()
            await wait_for(lambda: len(collector.lines) >= 3000, what="every record")
        finally:
            await collector.stop()
    assert collector.numbers() == list(range(3000))
    states = [status.state for status in collector.statuses]
    assert states.count(SourceState.CONNECTED) >= 9, "each of the 9 cut connections was a connection"


def _live(clients: set[ClientWriter]) -> list[asyncio.Transport]:
    """Transports of the server's clients that are still open (a cut one lingers until cleaned up)."""
    transports = (client.transport for client in clients)
    return [t for t in transports if t is not None and not t.is_closing()]


async def test_without_follow_history_is_read_then_done(tmp_path: Path) -> None:
    """A non-following http source reads the whole history and then reports done."""
    NumberedWriter(tmp_path, "a.jsonl").write(300)
    NumberedWriter(tmp_path, "b.log").write(200)
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        collector = Collector(HttpSource(base + "/", SourceOptions())).start()
        await wait_for(lambda: any(s.state is SourceState.DONE for s in collector.statuses), what="done")
        await collector.stop()
    by_source = {b.source for b in collector.batches}
    assert by_source == {base + "/a.jsonl", base + "/b.log"}
    assert len(collector.lines) == 500
    first = next(b for b in collector.batches if b.source.endswith("a.jsonl"))
    assert first.offsets[:2] == [0, len(numbered(0)) + 1]


async def test_wrong_token_is_reported_as_an_error(tmp_path: Path) -> None:
    """A 401 from the server ends the source with an error status saying why."""
    async with running_app(ServeConfig(root=tmp_path, token="right")) as (base, _):
        collector = Collector(HttpSource(base, SourceOptions(follow=True, token="wrong"))).start()
        await wait_for(lambda: bool(collector.statuses), what="a status")
        await collector.stop()
    assert collector.statuses[-1].state is SourceState.ERROR
    assert "401" in collector.statuses[-1].reason


async def test_many_clients_get_everything_with_bounded_server_buffers(tmp_path: Path) -> None:
    """Fifty followers of one server each get every line once while per-client buffers stay bounded."""
    writer = NumberedWriter(tmp_path)
    config = ServeConfig(root=tmp_path, buffer_limit=64 * 1024, chunk_bytes=64 * 1024)
    async with running_app(config) as (base, app):
        collectors = [Collector(HttpSource(base, SourceOptions(follow=True))).start() for _ in range(50)]
        await wait_for(lambda: len(app[CLIENTS]) == 50, what="50 clients")
        clients = list(app[CLIENTS])
        writer.write(2000)
        try:
            await wait_for(
                lambda: all(len(c.lines) >= 2000 for c in collectors), deadline=60, what="all lines"
            )
        finally:
            for c in collectors:
                await c.stop()
    assert all(c.numbers() == list(range(2000)) for c in collectors)
    assert max(c.high_water for c in clients) <= config.buffer_limit + 2 * config.chunk_bytes


async def test_tls_and_token_through_a_real_https_server(
    tmp_path: Path, serve_process: Callable[..., ServeProcess]
) -> None:
    """``serve --tls-cert --tls-key --token`` is followed over HTTPS with the CA file and the token."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: ASYNC221 - a one-off certificate before any server runs
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    logs = tmp_path / "logs"
    logs.mkdir()
    NumberedWriter(logs).write(100)
    server = serve_process(logs, "--tls-cert", str(cert), "--tls-key", str(key), "--token", "t0k")
    url = server.start().replace("http://", "https://")
    options = SourceOptions(token="t0k", ca_file=str(cert))
    collector = Collector(HttpSource(url, options)).start()
    await wait_for(lambda: any(s.state is SourceState.DONE for s in collector.statuses), what="done over TLS")
    await collector.stop()
    assert collector.numbers() == list(range(100))


async def test_filter_and_lines_options_are_applied_by_the_server(tmp_path: Path) -> None:
    """``filter_text`` travels as ``?filter=``, ``lines`` as ``?lines=``; only the asked-for lines arrive."""
    NumberedWriter(tmp_path).write(50)
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        filtered = Collector(HttpSource(base, SourceOptions(filter_text="n >= 45 or n == 3"))).start()
        last = Collector(HttpSource(base, SourceOptions(lines=2))).start()
        bad = Collector(HttpSource(base, SourceOptions(filter_text="n >="))).start()
        for c in (filtered, last, bad):
            await wait_for(lambda c=c: bool(c.statuses) and c.statuses[-1].state is not SourceState.CONNECTED)
            await c.stop()
    assert filtered.numbers() == [3, 45, 46, 47, 48, 49]
    assert last.numbers() == [48, 49]
    assert bad.statuses[-1].state is SourceState.ERROR and "HTTP 400" in bad.statuses[-1].reason


async def test_copytruncate_and_delete_recreate_are_followed(tmp_path: Path) -> None:
    """A followed file truncated in place, then deleted and recreated, keeps delivering its new lines."""
    path = tmp_path / "app.jsonl"
    path.write_bytes(numbered(0) + b"\n" + numbered(1) + b"\n")
    async with running_app(ServeConfig(root=tmp_path, poll_interval=0.02)) as (base, _):
        collector = Collector(HttpSource(base, SourceOptions(follow=True), backoff=FAST)).start()
        try:
            await wait_for(lambda: len(collector.lines) == 2, what="the first lines")
            with path.open("r+b") as out:
                out.truncate(0)
            with path.open("ab") as out:
                out.write(numbered(2) + b"\n")
            await wait_for(lambda: len(collector.lines) == 3, what="the line after truncation")
            path.unlink()
            path.write_bytes(numbered(3) + b"\n" + numbered(4) + b"\n")
            await wait_for(lambda: len(collector.lines) == 5, what="the lines of the recreated file")
        finally:
            await collector.stop()
    assert collector.numbers() == [0, 1, 2, 3, 4]
