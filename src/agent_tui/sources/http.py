"""``http(s)://`` source: follow a remote ``agent-tui serve`` and resume exactly after every drop or stall."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import aiohttp
import orjson

from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.sources.cursor import CursorError, Position, decode_cursor_files, encode_cursor
from agent_tui.sources.options import SourceError

if TYPE_CHECKING:
    from agent_tui.sources.options import SourceOptions

__all__ = ["Backoff", "HttpSource", "WireDecoder", "WireEnd", "open_http"]

_RECORD = b'{"source":'
_CURSOR_SEP = b'","cursor":"'
_LINE_SEP = b'","line":'
_PASSED_ON = frozenset({"source", "filter", "since", "lines"})
_FATAL = (400, 401, 403, 404, 405, 501)
_FILES_PER_SOURCE = 8


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential reconnect delays: ``initial * factor**attempt`` capped at ``maximum`` seconds."""

    initial: float = 0.25
    factor: float = 2.0
    maximum: float = 15.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before reconnect attempt number ``attempt`` (0-based)."""
        return float(min(self.maximum, self.initial * self.factor ** min(attempt, 32)))


class WireEnded(Exception):
    """The server closed the stream with a reason."""


@dataclass(frozen=True, slots=True)
class WireEnd:
    """The server ended the stream for a reason other than completion."""

    reason: str


class WireDecoder:
    """Decodes the serve NDJSON wire into line batches and statuses, tracking every source's position.

    Feed it raw bytes as they arrive (partial lines are carried over); ``cursor()`` is what to resume with.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.positions: dict[tuple[str, str], Position] = {}
        """(source, dev.inode) → position, most recently advanced last: a source can be reading a rotated
        file and the live one at once, and a resume must continue both."""
        self.delivered = 0
        self._names: dict[bytes, str] = {}
        self._carry = b""

    def reset(self) -> None:
        """Forget a partial line (the connection it came on is gone)."""
        self._carry = b""

    def cursor(self) -> str:
        """The whole-stream cursor after everything decoded so far."""
        return encode_cursor(self.positions.values())

    def feed(self, data: bytes) -> list[LineBatch | SourceStatus | WireEnd]:
        """Decode the complete lines in ``data`` (plus any carried partial line)."""
        cut = data.rfind(b"\n")
        if cut < 0:
            self._carry += data
            return []
        block = self._carry + data[:cut]
        self._carry = data[cut + 1 :]
        out = self._decode(block.split(b"\n"))
        for item in out:
            if isinstance(item, LineBatch):
                self._advance(item)
        return out

    def _advance(self, batch: LineBatch) -> None:
        last = batch.cursors[-1]
        _, file_id, offset = last.rsplit(":", 2)
        self._place(Position(batch.source[len(self.name) :], file_id, int(offset)))
        self.delivered += len(batch.lines)

    def _place(self, position: Position) -> None:
        # Keyed without the head crc: a file listed before its first line was complete ("-") is the same.
        key = (position.source, position.file_id.rpartition(".")[0])
        positions = self.positions
        if positions.pop(key, None) is None:
            # A source's files long finished need no position: past the bound the least recent goes.
            mine = [k for k in positions if k[0] == position.source]
            if len(mine) >= _FILES_PER_SOURCE:
                del positions[mine[0]]
        positions[key] = position

    def _decode(self, wire_lines: list[bytes]) -> list[LineBatch | SourceStatus | WireEnd]:
        # The hot loop: slice records apart without parsing the embedded line (see serve/wire.py).
        out: list[LineBatch | SourceStatus | WireEnd] = []
        names = self._names
        loads = orjson.loads
        batch_key = b""
        lines: list[bytes] = []
        offsets: list[int] = []
        cursors: list[str] = []
        for wire in wire_lines:
            split = wire.find(_CURSOR_SEP, 10)
            line_at = wire.find(_LINE_SEP, split) if split > 0 else -1
            if line_at < 0 or not wire.startswith(_RECORD):
                item = self._b64_record(wire) if wire.startswith(_RECORD) else self._control(wire)
                if item is not None:
                    out.append(item)
                    batch_key = b""
                continue
            cursor = wire[split + 12 : line_at]
            end_at = cursor.rfind(b":")
            key = wire[10:split] + cursor[:end_at]
            raw = wire[line_at + 9 : -1]
            if raw[:1] == b'"':
                raw = str(loads(raw)).encode()
            if key != batch_key:
                source = wire[10 : split + 1]
                name = names.get(source)
                if name is None:
                    name = names.setdefault(source, self.name + str(loads(source)))
                file_id = cursor[cursor.find(b":") + 1 : end_at].decode()
                lines, offsets, cursors = [], [], []
                out.append(LineBatch(name, lines, offsets, file_id, "", cursors))
                batch_key = key
            lines.append(raw)
            offsets.append(int(cursor[end_at + 1 :]) - len(raw) - 1)
            cursors.append(cursor.decode())
        return out

    def _b64_record(self, wire: bytes) -> LineBatch | None:
        try:
            obj = orjson.loads(wire)
            raw = base64.b64decode(obj["line_b64"])
            cursor = str(obj["cursor"])
            name = self.name + str(obj["source"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None
        file_id = cursor[cursor.find(":") + 1 : cursor.rfind(":")]
        end = int(cursor[cursor.rfind(":") + 1 :])
        return LineBatch(name, [raw], [end - len(raw) - 1], file_id, "", [cursor])

    def _control(self, wire: bytes) -> SourceStatus | WireEnd | None:
        try:
            obj = orjson.loads(wire)
        except orjson.JSONDecodeError:
            return None
        kind = obj.get("type") if isinstance(obj, dict) else None
        if kind == "start":
            with contextlib.suppress(CursorError):
                for positions in decode_cursor_files(str(obj.get("cursor", ""))).values():
                    for position in positions:
                        self._place(position)
            warnings = "; ".join(str(w) for w in obj.get("warnings", []))
            return SourceStatus(self.name, SourceState.CONNECTED, warnings or "connected")
        if kind == "warning":
            return SourceStatus(self.name, SourceState.CONNECTED, str(obj.get("message", "")))
        if kind == "end":
            if obj.get("reason") == "complete":
                return SourceStatus(self.name, SourceState.DONE, "complete")
            return WireEnd(str(obj.get("reason", "no reason given")))
        return None


def open_http(spec: str, options: SourceOptions) -> HttpSource:
    """Open a ``http(s)://host:port/`` spec (the factory's entry point)."""
    return HttpSource(spec, options)


def _ssl_context(options: SourceOptions) -> ssl.SSLContext:
    ca_file = options.ca_file or os.environ.get("AGENT_TUI_CA_FILE") or None
    context = ssl.create_default_context(cafile=ca_file)
    if not options.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class HttpSource:
    """Streams the NDJSON wire of ``agent-tui serve``; yields batches per remote source and status changes."""

    def __init__(
        self,
        url: str,
        options: SourceOptions,
        *,
        backoff: Backoff | None = None,
        read_timeout: float | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceError(f"not an http(s) URL: {url!r}")
        self.options = options
        self.backoff = backoff or Backoff()
        self.read_timeout = read_timeout
        self.query = [
            (k, v) for k, v in parse_qsl(parts.query) if k in ("source", "filter", "since", "lines")
        ]
        base = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], "", "", ""))
        self.name = base + "/"
        self.stream_url = base + parts.path.rstrip("/").removesuffix("/api/stream") + "/api/stream"
        self.decoder = WireDecoder(self.name)
        self._closed = False
        self._response: aiohttp.ClientResponse | None = None
        self._timeout = read_timeout or 15.0

    def _request(self) -> tuple[list[tuple[str, str]], dict[str, str]]:
        opts = self.options
        params = [*self.query, ("follow", "1" if opts.follow else "0")]
        if opts.filter_text and not any(k == "filter" for k, _ in params):
            params.append(("filter", opts.filter_text))
        headers = {"Accept": "application/x-ndjson", **dict(opts.headers)}
        token = opts.token or os.environ.get("AGENT_TUI_TOKEN")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.decoder.positions:
            headers["Last-Event-ID"] = self.decoder.cursor()
        else:
            if opts.lines is not None:
                params.append(("lines", str(opts.lines)))
            if opts.since is not None:
                params.append(("since", repr(opts.since)))
        return params, headers

    async def stream(self) -> AsyncIterator[LineBatch | SourceStatus]:
        """Connect, stream, and on any drop or stall reconnect with backoff from the last cursor."""
        context = _ssl_context(self.options) if self.stream_url.startswith("https") else None
        connector = aiohttp.TCPConnector(ssl=context if context is not None else False)
        timeout = aiohttp.ClientTimeout(total=None, connect=10.0)
        attempt = 0
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False) as session:
            while not self._closed:
                reason = ""
                try:
                    params, headers = self._request()
                    async with session.get(self.stream_url, params=params, headers=headers) as response:
                        self._response = response
                        if response.status != 200:
                            reason = await _http_error(response)
                            if response.status in _FATAL:
                                yield SourceStatus(self.name, SourceState.ERROR, reason)
                                return
                        else:
                            async for item in self._consume(response):
                                if isinstance(item, SourceStatus) and item.state is SourceState.CONNECTED:
                                    attempt = 0
                                yield item
                                if isinstance(item, SourceStatus) and item.state is SourceState.DONE:
                                    return
                            reason = "the server closed the connection"
                except WireEnded as ended:
                    reason = str(ended)
                except TimeoutError:
                    reason = f"no data or heartbeat for {self._timeout:g}s (stalled)"
                except (aiohttp.ClientError, OSError) as exc:
                    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                finally:
                    self._response = None
                if self._closed:
                    return
                delay = self.backoff.delay(attempt)
                attempt += 1
                yield SourceStatus(self.name, SourceState.RECONNECTING, f"{reason}; retrying in {delay:.1f}s")
                await asyncio.sleep(delay)

    async def _consume(self, response: aiohttp.ClientResponse) -> AsyncIterator[LineBatch | SourceStatus]:
        heartbeat = float(response.headers.get("X-Agent-Tui-Heartbeat", "5") or 5)
        self._timeout = self.read_timeout or max(3.0 * heartbeat, 1.0)
        self.decoder.reset()
        while True:
            async with asyncio.timeout(self._timeout):
                data = await response.content.readany()
            if not data:
                return
            for item in self.decoder.feed(data):
                if isinstance(item, WireEnd):
                    raise WireEnded(f"server ended the stream: {item.reason}")
                yield item

    async def close(self) -> None:
        """Stop streaming and drop the connection."""
        self._closed = True
        if self._response is not None:
            self._response.close()


async def _http_error(response: aiohttp.ClientResponse) -> str:
    body = (await response.read())[:2000]
    try:
        obj = orjson.loads(body)
        message = str(obj.get("error", body.decode("utf-8", "replace")))
        if obj.get("column"):
            message += f" (column {obj['column']})"
    except (orjson.JSONDecodeError, AttributeError):
        message = body.decode("utf-8", "replace").strip()
    return f"HTTP {response.status}: {message[:300]}"
