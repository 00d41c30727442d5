"""``loki://host:port?query={…}`` source: ``query_range`` backfill, then the ``tail`` websocket, by time.

URL parameters: ``query`` (LogQL; required), ``tenant`` (``X-Scope-OrgID``), ``token`` (bearer; better
``options.token`` or ``AGENT_TUI_LOKI_TOKEN``, which win), ``user`` and
``password`` (basic auth; ``user:password@host`` works too), ``tls=1`` (or the ``lokis://`` scheme) for HTTPS,
``level_label=1`` when streams carry ``agent_tui.log``'s ``level`` label (lets level filters become matchers),
``page`` (entries per ``query_range`` request, default 1000) and ``lookback`` (seconds of history without
``since``, default 3600). Options: ``token``, ``headers`` (a tenant header there wins), ``since``, ``lines``
(0 = live only, N = the newest N entries), ``follow``, ``logql`` (the query to run instead of the URL's: the
caller's filter pushed down, see ``agent_tui.model.query.logql.push_down``), ``tls_verify``/``ca_file``.
"""

from __future__ import annotations

import asyncio
import base64
import heapq
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import aiohttp
import orjson

from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.sources.http import Backoff, _ssl_context
from agent_tui.sources.options import SourceError

if TYPE_CHECKING:
    from agent_tui.sources.options import SourceOptions

__all__ = ["LokiError", "LokiQuery", "LokiSource", "entries_of", "open_loki", "query_of"]

Labels = tuple[tuple[str, str], ...]
Entry = tuple[int, str, Labels]
"""(timestamp in ns, line, the stream's indexed labels): one Loki entry, and its identity for dedupe."""
FLAGS = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}


class LokiQuery(NamedTuple):
    """What a ``loki://`` URL asks for: its LogQL and the hints that make filter pushdown sound."""

    query: str
    labels: tuple[str, ...]
    """Fields that are stream labels with the same values as in the line (``labels=agent_id,service``)."""
    level_label: bool
    """Streams carry ``agent_tui.log.LokiHandler``'s ``level`` label (``level_label=1``)."""


def _ts(entry: Entry) -> int:
    return entry[0]


def entries_of(streams: list[dict[str, Any]]) -> list[Entry]:
    """The entries of a ``streams`` result in time order, keyed by indexed labels only.

    Asks for (and copes without) categorize-labels: keys found in an entry's structured metadata or
    parsed labels are removed from its stream labels, so replays and queries key entries alike.
    """
    runs: list[list[Entry]] = []
    for stream in streams:
        labels: dict[str, str] = stream.get("stream", {})
        base = tuple(sorted(labels.items()))
        run: list[Entry] = []
        for value in stream.get("values", []):
            key = base
            if len(value) > 2 and isinstance(value[2], dict):
                extra = {**value[2].get("structuredMetadata", {}), **value[2].get("parsed", {})}
                if extra.keys() & labels.keys():
                    key = tuple(item for item in base if item[0] not in extra)
            run.append((int(value[0]), str(value[1]), key))
        run.sort(key=_ts)
        runs.append(run)
    return list(heapq.merge(*runs, key=_ts))


class LokiError(Exception):
    """Loki answered with an error status."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"Loki HTTP {status}: {text.strip()[:300]}")
        self.status = status


def query_of(spec: str) -> LokiQuery:
    """The LogQL and pushdown hints a ``loki://`` URL names, for a caller building ``SourceOptions.logql``.

    Raises:
        SourceError: not a ``loki://`` URL, or one without ``?query=``.
    """
    parts = urlsplit(spec)
    if parts.scheme not in ("loki", "lokis") or not parts.hostname:
        raise SourceError(f"not a loki:// URL: {spec!r}")
    params = _params(parts.query)
    if not params.get("query"):
        raise SourceError('loki:// needs ?query={selector}, e.g. loki://host:3100?query={service="api"}')
    labels = tuple(x for x in params.get("labels", "").split(",") if x)
    return LokiQuery(params["query"], labels, params.get("level_label") in ("1", "true"))


def _params(query: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}


def open_loki(spec: str, options: SourceOptions) -> LokiSource:
    """Open a ``loki://`` spec (the factory's entry point)."""
    return LokiSource(spec, options)


class _Seen:
    """Recently delivered (ts, line) keys, bounded, so replays after a reconnect are not delivered twice."""

    def __init__(self, size: int = 100_000) -> None:
        self.keys: set[tuple[int, str, Labels]] = set()
        self.order: deque[tuple[int, str, Labels]] = deque()
        self.size = size

    def fresh(self, entry: Entry) -> bool:
        if entry in self.keys:
            return False
        self.keys.add(entry)
        self.order.append(entry)
        if len(self.order) > self.size:
            self.keys.discard(self.order.popleft())
        return True


class LokiSource:
    """Streams a LogQL query from Loki; yields batches of lines and status changes."""

    def __init__(
        self,
        spec: str,
        options: SourceOptions,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        wanted = query_of(spec)
        parts = urlsplit(spec)
        params = _params(parts.query)
        tls = parts.scheme == "lokis" or params.get("tls") in ("1", "true")
        host = parts.netloc.rpartition("@")[2]
        self.base = f"{'https' if tls else 'http'}://{host}"
        self.options = options
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.page = int(params.get("page", "1000"))
        self.lookback = float(params.get("lookback", "3600"))
        self.name = f"loki://{host}?query={wanted.query}"
        self.query = options.logql or wanted.query
        self.headers = self._headers(params, parts.username, parts.password)
        self.seen = _Seen()
        self.last_ns = 0
        self._closed = False
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    def _headers(self, params: dict[str, str], user: str | None, password: str | None) -> dict[str, str]:
        headers: dict[str, str] = dict(FLAGS)
        if params.get("tenant"):
            headers["X-Scope-OrgID"] = params["tenant"]
        token = self.options.token or os.environ.get("AGENT_TUI_LOKI_TOKEN") or params.get("token")
        user = params.get("user") or (unquote(user) if user else None)
        password = params.get("password") or (unquote(password) if password else None)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif user:
            credentials = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            headers["Authorization"] = f"Basic {credentials}"
        headers.update(self.options.headers)
        return headers

    async def stream(self) -> AsyncIterator[LineBatch | SourceStatus]:
        """Backfill, then (when following) tail live; on failures reconnect and resume from the last ts."""
        context = _ssl_context(self.options) if self.base.startswith("https") else None
        connector = aiohttp.TCPConnector(ssl=context if context is not None else False)
        timeout = aiohttp.ClientTimeout(total=None, connect=10.0, sock_read=60.0)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, headers=self.headers, trust_env=False
        ) as session:
            attempt = 0
            first = True
            while not self._closed:
                try:
                    if first:
                        async for item in self._backfill(session):
                            yield item
                        first = False
                        if not self.options.follow:
                            yield SourceStatus(self.name, SourceState.DONE, "complete")
                            return
                    else:
                        async for batch in self._catch_up(session):
                            yield batch
                    async for item in self._tail(session):
                        attempt = 0
                        yield item
                    reason = "Loki closed the tail connection"
                except LokiError as exc:
                    if exc.status in (400, 401, 403, 404):
                        yield SourceStatus(self.name, SourceState.ERROR, str(exc))
                        return
                    reason = str(exc)
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if self._closed:
                    return
                delay = self.backoff.delay(attempt)
                attempt += 1
                yield SourceStatus(self.name, SourceState.RECONNECTING, f"{reason}; retrying in {delay:.1f}s")
                await asyncio.sleep(delay)

    def _batch(self, entries: Iterable[Entry]) -> LineBatch | None:
        lines: list[bytes] = []
        cursors: list[str] = []
        for entry in entries:
            if self.seen.fresh(entry):
                lines.append(entry[1].encode())
                cursors.append(str(entry[0]))
                self.last_ns = max(self.last_ns, entry[0])
        return LineBatch(self.name, lines, cursors=cursors) if lines else None

    async def _backfill(self, session: aiohttp.ClientSession) -> AsyncIterator[LineBatch | SourceStatus]:
        opts = self.options
        now_ns = int(self.clock() * 1e9)
        if opts.lines == 0:
            self.last_ns = now_ns
            return
        start = int(opts.since * 1e9) if opts.since is not None else now_ns - int(self.lookback * 1e9)
        if opts.lines is not None:
            entries = await self._query(session, start, now_ns + 1, opts.lines, "backward")
            batch = self._batch(sorted(entries, key=_ts))
            if batch is not None:
                yield batch
            self.last_ns = max(self.last_ns, now_ns)
            return
        self.last_ns = start
        async for batch in self._pages(session, start, now_ns + 1):
            yield batch

    async def _catch_up(self, session: aiohttp.ClientSession) -> AsyncIterator[LineBatch]:
        async for batch in self._pages(session, self.last_ns, int(self.clock() * 1e9) + 1):
            yield batch

    async def _pages(self, session: aiohttp.ClientSession, start: int, end: int) -> AsyncIterator[LineBatch]:
        """Forward ``query_range`` pages from ``start``; each next page starts at the last ts seen."""
        while start < end and not self._closed:
            entries = await self._query(session, start, end, self.page, "forward")
            batch = self._batch(entries)
            if batch is not None:
                yield batch
            if len(entries) < self.page:
                return
            top = entries[-1][0]
            start = top if top > start else start + 1

    async def _query(
        self, session: aiohttp.ClientSession, start: int, end: int, limit: int, direction: str
    ) -> list[Entry]:
        params = {"query": self.query, "start": str(start), "end": str(end), "limit": str(limit)}
        params["direction"] = direction
        async with session.get(self.base + "/loki/api/v1/query_range", params=params) as response:
            body = await response.read()
            if response.status != 200:
                raise LokiError(response.status, body.decode("utf-8", "replace"))
        return entries_of(orjson.loads(body).get("data", {}).get("result", []))

    async def _tail(self, session: aiohttp.ClientSession) -> AsyncIterator[LineBatch | SourceStatus]:
        params = {"query": self.query, "start": str(self.last_ns), "limit": "5000"}
        try:
            url = self.base.replace("http", "ws", 1) + "/loki/api/v1/tail"
            ws = await session.ws_connect(url, params=params, heartbeat=15.0)
        except aiohttp.WSServerHandshakeError as exc:
            raise LokiError(exc.status, exc.message) from exc
        self._ws = ws
        yield SourceStatus(self.name, SourceState.CONNECTED, "tailing")
        try:
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                frame: dict[str, Any] = orjson.loads(message.data)
                batch = self._batch(entries_of(frame.get("streams", [])))
                if batch is not None:
                    yield batch
                dropped = frame.get("dropped_entries")
                if dropped:
                    yield SourceStatus(
                        self.name, SourceState.CONNECTED, f"Loki dropped {len(dropped)} entries"
                    )
        finally:
            self._ws = None
            await ws.close()

    async def close(self) -> None:
        """Stop streaming and close the websocket."""
        self._closed = True
        if self._ws is not None:
            await self._ws.close()
