"""The aiohttp application behind ``agent-tui serve``: sources, NDJSON/SSE streams, auth, health."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson
from aiohttp import web
from aiohttp.typedefs import Middleware

from agent_tui.serve.client import ClientWriter, Stalled
from agent_tui.serve.files import PathRefused, ServedDir
from agent_tui.serve.gates import build_gates
from agent_tui.serve.session import GateBuilder, GateError, StreamSession
from agent_tui.serve.watcher import DirWatcher
from agent_tui.serve.wire import control, sse_comment
from agent_tui.sources.cursor import CursorError, Position, decode_cursor_files

__all__ = ["CLIENTS", "WATCHER", "ServeConfig", "make_app", "parse_since"]


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """Everything ``serve`` needs; tests shorten the timings."""

    root: Path
    token: str | None = None
    heartbeat: float = 5.0
    """Seconds of silence after which an idle stream gets a heartbeat (clients time out at ~3x)."""
    stall_timeout: float = 10.0
    """A client whose buffered output cannot drain for this long is disconnected as stalled."""
    buffer_limit: int = 256 * 1024
    """Per-client transport buffer high-water mark (bytes)."""
    chunk_bytes: int = 256 * 1024
    """Bytes of log read per client per step."""
    rate_limit: float = 64 * 1024 * 1024
    """Bytes of log per second one client may read (0: unlimited)."""
    max_clients: int = 256
    poll_interval: float = 0.05
    gate_builder: GateBuilder | None = field(default=build_gates, compare=False)


CLIENTS = web.AppKey("clients", set[ClientWriter])
WATCHER = web.AppKey("watcher", DirWatcher)
_CONFIG = web.AppKey("config", ServeConfig)
_SERVED = web.AppKey("served", ServedDir)


def make_app(config: ServeConfig) -> web.Application:
    """Build the read-only log server for ``config.root``."""
    app = web.Application(
        middlewares=[_auth_middleware(config.token)] if config.token else [],
        # Resume cursors name every file; a fleet of hundreds of logs outgrows the default 8 KiB limits.
        handler_args={"max_line_size": 1 << 20, "max_field_size": 1 << 20},
    )
    served = ServedDir(config.root)
    app[_CONFIG] = config
    app[_SERVED] = served
    app[WATCHER] = DirWatcher(served, config.poll_interval)
    app[CLIENTS] = set()
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/api/sources", _sources)
    app.router.add_get("/api/stream", _stream)
    app.router.add_get("/api/events", _stream)
    app.on_startup.append(_on_startup)
    app.on_shutdown.append(_on_shutdown)
    return app


async def _on_startup(app: web.Application) -> None:
    app[WATCHER].start()


async def _on_shutdown(app: web.Application) -> None:
    await app[WATCHER].stop()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _auth_middleware(token: str) -> Middleware:
    expected = b"Bearer " + token.encode()

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, expected):
            return _json_error(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
        return await handler(request)

    return check


def _json_error(status: int, message: str, **extra: object) -> web.Response:
    headers = extra.pop("headers", None)
    body = orjson.dumps({"error": message, **extra})
    return web.Response(
        status=status,
        body=body,
        content_type="application/json",
        headers=headers if isinstance(headers, dict) else None,
    )


async def _healthz(request: web.Request) -> web.Response:
    watcher = request.app[WATCHER]
    return web.json_response(
        {"status": "ok", "sources": len(watcher.files), "clients": len(request.app[CLIENTS])},
        dumps=lambda o: orjson.dumps(o).decode(),
    )


async def _sources(request: web.Request) -> web.Response:
    files = request.app[WATCHER].files
    listing = [
        {"source": i.source, "size": i.size, "mtime": i.mtime, "file": f"{i.dev:x}.{i.ino:x}"}
        for i in sorted(files.values(), key=lambda i: i.source)
    ]
    return web.Response(body=orjson.dumps({"sources": listing}), content_type="application/json")


@dataclass(frozen=True, slots=True)
class _Params:
    sse: bool
    follow: bool
    start: dict[str, list[Position]] | None
    sources: list[str] | None
    lines: int | None
    filter_text: str | None
    since: float | None


def parse_since(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _params(request: web.Request, served: ServedDir) -> _Params | web.Response:
    q = request.query
    accept = request.headers.get("Accept", "")
    sse = request.path.endswith("/events") or "text/event-stream" in accept
    cursor_text = q.get("cursor") or request.headers.get("Last-Event-ID")
    try:
        start = decode_cursor_files(cursor_text) if cursor_text else None
        lines = int(q["lines"]) if q.get("lines") else None
        since = parse_since(q["since"]) if q.get("since") else None
    except CursorError as exc:
        return _json_error(400, str(exc))
    except ValueError as exc:
        return _json_error(400, f"bad lines or since: {exc}")
    if lines is not None and lines < 0:
        return _json_error(400, "lines must be >= 0")
    sources = q.getall("source", []) or None
    for name in sources or []:
        try:
            real = served.resolve(name)
        except PathRefused as exc:
            return _json_error(403, str(exc))
        if not real.is_file() or not served.is_log_name(real.name):
            return _json_error(404, f"no such log source: {name!r}")
    follow = q.get("follow", "1").lower() not in ("0", "false", "no")
    return _Params(sse, follow, start, sources, lines, q.get("filter") or None, since)


async def _stream(request: web.Request) -> web.StreamResponse:
    config, served, watcher = request.app[_CONFIG], request.app[_SERVED], request.app[WATCHER]
    params = _params(request, served)
    if isinstance(params, web.Response):
        return params
    gates = None
    if params.filter_text or params.since is not None:
        if config.gate_builder is None:
            return _json_error(501, "this server cannot apply filters or since")
        try:
            gates = config.gate_builder(params.filter_text, None if params.start else params.since)
        except GateError as exc:
            return _json_error(400, exc.message, column=exc.column)
    clients = request.app[CLIENTS]
    if len(clients) >= config.max_clients:
        return _json_error(503, f"too many clients (limit {config.max_clients})")
    session = StreamSession(
        served,
        start=params.start,
        sources=params.sources,
        lines=None if params.start else params.lines,
        gate_factory=gates,
        sse=params.sse,
        chunk_bytes=config.chunk_bytes,
    )
    session.open(list(watcher.files))
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream" if params.sse else "application/x-ndjson",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
            "X-Agent-Tui-Heartbeat": str(config.heartbeat),
        }
    )
    await response.prepare(request)
    client = ClientWriter(request, response, config.buffer_limit, config.stall_timeout)
    clients.add(client)
    try:
        await _pump(client, session, watcher, config, params)
    except Stalled as exc:
        client.disconnect(str(exc), control("end", params.sse, reason=str(exc)))
    except ConnectionError:
        pass
    finally:
        clients.discard(client)
        session.close()
    return response


async def _pump(
    client: ClientWriter, session: StreamSession, watcher: DirWatcher, config: ServeConfig, params: _Params
) -> None:
    sse = params.sse
    start: dict[str, object] = {"cursor": session.cursor(), "heartbeat": config.heartbeat}
    if session.warnings:
        start["warnings"] = session.warnings
    await client.send((b"retry: 1000\n" if sse else b"") + control("start", sse, **start))
    generation = watcher.generation
    session.refresh(list(watcher.files))
    began = last_send = time.monotonic()
    while True:
        if watcher.stopped:
            await client.send(control("end", sse, reason="server shutting down"))
            return
        data, progressed = session.poll(config.chunk_bytes)
        if data:
            await client.send(data)
            last_send = time.monotonic()
            if config.rate_limit:
                ahead = client.sent / config.rate_limit - (last_send - began)
                if ahead > 0.01:
                    await asyncio.sleep(ahead)
        if progressed:
            if not data:
                await asyncio.sleep(0)
            continue
        if not params.follow:
            await client.send(control("end", sse, reason="complete", cursor=session.cursor()))
            return
        idle = time.monotonic() - last_send
        if idle >= config.heartbeat:
            await client.send(sse_comment("heartbeat") if sse else control("heartbeat", sse))
            last_send = time.monotonic()
            continue
        new_generation = await watcher.wait(generation, min(config.heartbeat - idle, 0.5))
        if new_generation != generation:
            generation = new_generation
            session.refresh(list(watcher.files))
