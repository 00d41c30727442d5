"""A protocol fake of Grafana Loki's push API, following Loki 3.7.6 as recorded in our API notes.

What it does like the real server (single binary, auth disabled unless ``auth_enabled``, structured
metadata allowed): ``POST /loki/api/v1/push`` needs ``Content-Type: application/json`` (anything else is
read as protobuf+snappy: 400 ``snappy: corrupt input``); ``Content-Encoding: gzip`` works, other encodings
400; ``{"streams":[]}`` 422; malformed JSON, a non-string ts or a non-string metadata value 400 with a text
body; a ts before the schema start 500; success 204 with an empty body. Identical (ts, line) in one stream
is stored once. Every entry gets the label ``service_name`` (from ``service``, else ``unknown_service``)
and the metadata ``detected_level``. 429s are plain text without ``Retry-After``; the per-stream mode
stores part of a batch and still answers 429.

Use ``LokiFake`` inside a running loop (``await fake.start()``) or ``ThreadedLokiFake`` as a context
manager from sync code. ``fake.app`` is the aiohttp application (add routes before ``start``),
``fake.entries`` the stored entries in arrival order, ``fake.requests`` every push seen.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

__all__ = [
    "FAULTS",
    "LokiFake",
    "PushRequest",
    "StoredEntry",
    "ThreadedLokiFake",
    "running_loki",
    "wait_until",
]

PUSH = "/loki/api/v1/push"
FAULTS = ("ok", "429", "500", "400", "hang", "close", "partial_429")
SCHEMA_START_NS = 1_603_497_600_000_000_000  # 2020-10-24, the schema start of Loki's sample config
LEVEL_KEYS = ("level", "LEVEL", "Level", "severity", "SEVERITY", "lvl", "loglevel")


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One stored log entry: indexed labels, ts (ns, as sent), line, structured metadata, tenant."""

    labels: dict[str, str]
    ts: str
    line: str
    metadata: dict[str, str]
    tenant: str


@dataclass(frozen=True, slots=True)
class PushRequest:
    """One push as received: headers, the raw (still compressed) body and the status answered."""

    headers: dict[str, str]
    body: bytes
    status: int


class _BadRequest(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


@dataclass
class LokiFake:
    """The fake server; see the module docstring for the behaviour it reproduces."""

    auth_enabled: bool = False
    required_headers: dict[str, str] = field(default_factory=dict)
    retry_after: str | None = None
    partial_accept: int = 1
    entries: list[StoredEntry] = field(default_factory=list)
    requests: list[PushRequest] = field(default_factory=list)
    fault: str = "ok"
    fault_remaining: int | None = None
    url: str = ""

    def __post_init__(self) -> None:
        self.app = web.Application(client_max_size=256 * 1024 * 1024)
        self.app.router.add_post(PUSH, self._push)
        self._seen: dict[tuple[str, tuple[tuple[str, str], ...]], set[tuple[str, str]]] = {}
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()

    def fail(self, mode: str, count: int | None = None) -> None:
        """Answer the next ``count`` pushes (all, when None) with fault ``mode`` (one of ``FAULTS``)."""
        if mode not in FAULTS:
            raise ValueError(f"unknown fault {mode!r}; choose from {FAULTS}")
        self.fault, self.fault_remaining = mode, count

    def lines(self) -> list[str]:
        """Stored lines in arrival order."""
        return [e.line for e in self.entries]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host``:``port`` (ephemeral by default); returns and sets ``url``."""
        self._release = asyncio.Event()
        # Decompress ourselves, so requests keep the bytes as sent and odd encodings fail like Loki.
        self._runner = web.AppRunner(
            self.app, access_log=None, handler_cancellation=True, auto_decompress=False
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = site._server.sockets if site._server else ()  # type: ignore[union-attr]
        self.url = f"http://{host}:{sockets[0].getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        """Release hanging requests and stop serving."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _take_fault(self) -> str:
        mode = self.fault
        if mode != "ok" and self.fault_remaining is not None:
            self.fault_remaining -= 1
            if self.fault_remaining <= 0:
                self.fault, self.fault_remaining = "ok", None
        return mode

    async def _push(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        headers = dict(request.headers)
        status, text, extra_headers = await self._answer(request, raw)
        self.requests.append(PushRequest(headers, raw, status))
        if status == 204:
            return web.Response(status=204)
        return web.Response(status=status, text=text, headers=extra_headers)

    async def _answer(self, request: web.Request, raw: bytes) -> tuple[int, str, dict[str, str]]:
        for name, value in self.required_headers.items():
            if request.headers.get(name) != value:
                return 401, "unauthorized\n", {}
        tenant = request.headers.get("X-Scope-OrgID", "") if self.auth_enabled else "fake"
        if not tenant:
            return 401, "no org id\n", {}
        mode = self._take_fault()
        if mode == "hang":
            await self._release.wait()
            return 503, "shutting down\n", {}
        if mode == "close":
            if request.transport is not None:
                request.transport.close()
            return 500, "", {}
        if mode in ("500", "400"):
            return int(mode), f"injected {mode}\n", {}
        if mode == "429":
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return 429, _tenant_limit_text(raw), headers
        try:
            streams = _decode(request, raw)
            return self._store(streams, tenant, partial=mode == "partial_429")
        except _BadRequest as exc:
            return exc.status, exc.text + "\n", {}

    def _store(
        self, streams: list[dict[str, Any]], tenant: str, partial: bool
    ) -> tuple[int, str, dict[str, str]]:
        ignored: list[str] = []
        total = 0
        for stream in streams:
            labels = dict(stream["stream"])
            labels.setdefault("service_name", labels.get("service", "unknown_service"))
            key = (tenant, tuple(sorted(labels.items())))
            seen = self._seen.setdefault(key, set())
            for n, value in enumerate(stream["values"]):
                total += 1
                ts, line = value[0], value[1]
                if partial and n >= self.partial_accept:
                    ignored.append(
                        f"entry with timestamp {ts} ignored, reason: 'Per stream rate limit exceeded "
                        f"(limit: 3MB/sec) while attempting to ingest for stream '{labels}' totaling "
                        f"{len(line)}B, consider splitting a stream via additional labels or contact your "
                        f"Loki administrator to see if the limit can be increased',"
                    )
                    continue
                if (ts, line) in seen:
                    continue
                seen.add((ts, line))
                metadata = dict(value[2]) if len(value) > 2 else {}
                metadata.setdefault("detected_level", _detected_level(labels, metadata, line))
                self.entries.append(StoredEntry(labels, ts, line, metadata, tenant))
        if ignored:
            text = "\n".join(ignored) + f"\ntotal ignored: {len(ignored)} out of {total}\n"
            return 429, text, {}
        return 204, "", {}


def _tenant_limit_text(raw: bytes) -> str:
    return (
        "ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec) while attempting to "
        f"ingest '1' lines totaling '{len(raw)}' bytes, reduce log volume or contact your Loki "
        "administrator to see if the limit can be increased\n"
    )


def _detected_level(labels: dict[str, str], metadata: dict[str, str], line: str) -> str:
    for source in (labels, metadata):
        for key in LEVEL_KEYS:
            if key in source:
                return source[key].lower()
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "unknown"
    if isinstance(obj, dict):
        for key in LEVEL_KEYS:
            if isinstance(obj.get(key), str):
                return str(obj[key]).lower()
    return "unknown"


def _decode(request: web.Request, raw: bytes) -> list[dict[str, Any]]:
    if request.content_type != "application/json":
        raise _BadRequest(400, "snappy: corrupt input")
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding == "gzip":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise _BadRequest(400, f"gzip: {exc}") from None
    elif encoding not in ("", "identity"):
        raise _BadRequest(400, f"Content-Encoding {encoding!r} not supported")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _BadRequest(400, f"loghttp.PushRequest.Streams: ReadArray: {exc}") from None
    streams = body.get("streams") if isinstance(body, dict) else None
    if not isinstance(streams, list):
        raise _BadRequest(400, "loghttp.PushRequest: streams must be an array")
    if not streams:
        raise _BadRequest(422, "no streams in push request")
    for stream in streams:
        _validate_stream(stream)
    return streams


def _validate_stream(stream: Any) -> None:
    labels = stream.get("stream") if isinstance(stream, dict) else None
    values = stream.get("values") if isinstance(stream, dict) else None
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise _BadRequest(400, "loghttp.PushRequest.Streams: stream labels must be strings")
    if not isinstance(values, list):
        raise _BadRequest(400, "loghttp.PushRequest.Streams: values must be an array")
    for value in values:
        if not isinstance(value, list) or len(value) not in (2, 3):
            raise _BadRequest(400, "loghttp.PushRequest.Streams: entry must be [ts, line(, metadata)]")
        ts, line = value[0], value[1]
        if not isinstance(ts, str) or not ts.isdigit():
            raise _BadRequest(400, f'ReadString: expects " or n, but found {str(ts)[:1]!r}')
        if not isinstance(line, str):
            raise _BadRequest(400, "ReadString: log line must be a string")
        if len(value) == 3:
            meta = value[2]
            if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
                raise _BadRequest(400, "ReadString: structured metadata values must be strings")
        if int(ts) < SCHEMA_START_NS:
            raise _BadRequest(500, f"entry for timestamp {ts} is before the schema start")


class ThreadedLokiFake:
    """Runs a :class:`LokiFake` on its own event loop in a daemon thread (for sync tests and benchmarks)."""

    def __init__(self, fake: LokiFake | None = None) -> None:
        self.fake = fake or LokiFake()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="loki-fake", daemon=True)

    def __enter__(self) -> LokiFake:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self._loop).result(10)
        return self.fake

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the fake's loop thread and return its result."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)


@contextmanager
def running_loki(**options: Any) -> Iterator[LokiFake]:
    """``with running_loki() as fake:`` — a threaded fake on 127.0.0.1, stopped on exit."""
    with ThreadedLokiFake(LokiFake(**options)) as fake:
        yield fake


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until true or ``timeout``; returns its last value."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return predicate()
        time.sleep(interval)
    return True
