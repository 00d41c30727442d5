"""Read routes for the Loki fake: ``query_range`` and the ``tail`` websocket, as Loki 3.7 answers them.

Follows the Loki 3.7 HTTP API documentation and our notes from a real Loki 3.7.6 (``loki-api-notes.md``):

- ``GET /loki/api/v1/query_range``: ``start``/``end`` as ns integers, RFC 3339 or float seconds (start
  inclusive, end exclusive; defaults: one hour ago, now), ``limit`` (default 100) over all streams,
  ``direction`` backward (default) or forward. Answer ``{"status":"success","data":{"resultType":"streams",
  "result":[{"stream":{…},"values":[["<ns>","<line>"],…]}],"stats":{…}}}``. Without headers structured
  metadata (and ``| json`` fields) are merged into ``stream``; with ``X-Loki-Response-Encoding-Flags:
  categorize-labels`` ``stream`` holds indexed labels only, entries carry ``{"structuredMetadata":…,
  "parsed":…}`` (empty parts omitted) and ``data.encodingFlags == ["categorize-labels"]``.
- ``GET /loki/api/v1/tail`` (websocket): replays up to ``limit`` entries since ``start`` (one stream object
  per entry, metadata merged), then sends each new matching entry as ``{"streams":[…]}`` with indexed labels
  only — structured metadata only with categorize-labels (third element, top-level ``encodingFlags``).
  ``dropped_entries`` appears only when entries were dropped (``drop_next_live``).
- LogQL errors: 400 with a plain-text ``parse error at line 1, col N: syntax error: …`` body.

The LogQL subset: a stream selector with ``= != =~ !~`` matchers, line filters ``|= != |~ !~``, ``| json``
(nested keys joined with ``_``; a name clashing with a label or metadata key gets ``_extracted``) and label
filters ``| name op "value"`` on parsed fields, metadata and labels.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from tests.fakes.loki import LokiFake, StoredEntry

__all__ = ["LogQLError", "LokiRead", "Query", "add_read_routes", "parse_logql"]

QUERY_RANGE = "/loki/api/v1/query_range"
TAIL = "/loki/api/v1/tail"
FLAGS_HEADER = "X-Loki-Response-Encoding-Flags"
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)|(?P<op>\|=|!=|\|~|!~|=~|=|\||\{|\}|,)|(?P<id>[A-Za-z_][A-Za-z0-9_]*))'
)


class LogQLError(ValueError):
    """A query outside the subset, worded like Loki's parser."""


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed LogQL log query: selector matchers and pipeline stages."""

    matchers: tuple[tuple[str, str, str], ...]
    stages: tuple[tuple[str, ...], ...]


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            col = pos + 1 + (len(text[pos:]) - len(text[pos:].lstrip()))
            raise LogQLError(f"parse error at line 1, col {col}: syntax error: unexpected character")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str":
            value = value[1:-1] if value[0] == "`" else str(orjson.loads(value))
        out.append((kind, value, match.start(kind) + 1))
        pos = match.end()
    return out


def parse_logql(text: str) -> Query:
    """Parse the supported subset; raises LogQLError with Loki's wording."""
    toks = _tokens(text)
    end_col = len(text) + 1

    def expect(i: int, kind: str, value: str | None = None) -> str:
        if i >= len(toks):
            raise LogQLError(f"parse error at line 1, col {end_col}: syntax error: unexpected $end")
        k, v, col = toks[i]
        if k != kind or (value is not None and v != value):
            raise LogQLError(f"parse error at line 1, col {col}: syntax error: unexpected {v}")
        return v

    expect(0, "op", "{")
    i, matchers = 1, []
    while True:
        name = expect(i, "id")
        op = expect(i + 1, "op")
        if op not in ("=", "!=", "=~", "!~"):
            raise LogQLError(f"parse error at line 1, col {toks[i + 1][2]}: syntax error: unexpected {op}")
        matchers.append((name, op, expect(i + 2, "str")))
        i += 3
        if expect(i, "op") == "}":
            i += 1
            break
        expect(i, "op", ",")
        i += 1
    if not matchers or all(op in ("!=", "!~") or v == "" for _, op, v in matchers):
        raise LogQLError("parse error : queries require at least one regexp or equality matcher")
    stages: list[tuple[str, ...]] = []
    while i < len(toks):
        op = expect(i, "op")
        if op in ("|=", "!=", "|~", "!~"):
            stages.append(("line", op, expect(i + 1, "str")))
            i += 2
        elif op == "|" and i + 1 < len(toks) and toks[i + 1][1] == "json":
            stages.append(("json",))
            i += 2
        elif op == "|":
            name = expect(i + 1, "id")
            cmp = expect(i + 2, "op")
            stages.append(("label", name, cmp, expect(i + 3, "str")))
            i += 4
        else:
            raise LogQLError(f"parse error at line 1, col {toks[i][2]}: syntax error: unexpected {op}")
    return Query(tuple(matchers), tuple(stages))


def _match(op: str, have: str, want: str) -> bool:
    if op == "=":
        return have == want
    if op == "!=":
        return have != want
    full = re.fullmatch(want, have) is not None
    return full if op == "=~" else not full


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, str]) -> None:
    for key, value in obj.items():
        name = re.sub(r"[^A-Za-z0-9_]", "_", prefix + key)
        if isinstance(value, dict):
            _flatten(value, name + "_", out)
        elif isinstance(value, str):
            out[name] = value
        elif value is not None and not isinstance(value, list):
            out[name] = orjson.dumps(value).decode()


@dataclass(frozen=True, slots=True)
class Evaluated:
    """An entry that passed the query, with what ``| json`` extracted."""

    entry: StoredEntry
    parsed: dict[str, str]


def evaluate(query: Query, entry: StoredEntry) -> Evaluated | None:
    """Run the query on one stored entry (None when it does not pass)."""
    labels = entry.labels
    if not all(_match(op, labels.get(name, ""), want) for name, op, want in query.matchers):
        return None
    parsed: dict[str, str] = {}
    for stage in query.stages:
        if stage[0] == "line":
            _, op, needle = stage
            hit = needle in entry.line if op in ("|=", "!=") else re.search(needle, entry.line) is not None
            if hit != (op in ("|=", "|~")):
                return None
        elif stage[0] == "json":
            try:
                obj = orjson.loads(entry.line)
            except orjson.JSONDecodeError:
                parsed["__error__"] = "JSONParserErr"
                continue
            flat: dict[str, str] = {}
            if isinstance(obj, dict):
                _flatten(obj, "", flat)
            for key, value in flat.items():
                clash = key in labels or key in entry.metadata
                parsed[key + "_extracted" if clash else key] = value
        else:
            _, name, op, want = stage
            have = labels.get(name, entry.metadata.get(name, parsed.get(name, "")))
            if not _match(op, have, want):
                return None
    return Evaluated(entry, parsed)


def parse_time(text: str | None, default: int) -> int:
    """A Loki time parameter (ns integer, float seconds or RFC 3339) as ns."""
    if not text:
        return default
    if text.isdigit():
        return int(text) if len(text) > 12 else int(text) * 1_000_000_000
    try:
        return int(float(text) * 1e9)
    except ValueError:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1e9)


@dataclass
class LokiRead:
    """The read side attached to a LokiFake (see the module docstring)."""

    fake: LokiFake
    live_delay: float = 0.05
    clock: Callable[[], float] = time.time
    tails: set[web.WebSocketResponse] = field(default_factory=set)
    read_fault: int | None = None
    drop_next_live: int = 0

    async def close_tails(self) -> None:
        """Cut every open tail websocket (as a restarting Loki would)."""
        for ws in list(self.tails):
            await ws.close()

    def _denied(self, request: web.Request) -> web.Response | None:
        """Auth like the push side: required headers, and a tenant when auth is enabled."""
        for name, value in self.fake.required_headers.items():
            if request.headers.get(name) != value:
                return web.Response(status=401, text="unauthorized\n")
        if self.fake.auth_enabled and not request.headers.get("X-Scope-OrgID"):
            return web.Response(status=401, text="no org id\n")
        return None

    def _tenant(self, request: web.Request) -> str:
        return request.headers.get("X-Scope-OrgID", "") if self.fake.auth_enabled else "fake"

    def _select(self, query: Query, start: int, end: int, tenant: str) -> list[Evaluated]:
        out = []
        for entry in list(self.fake.entries):
            ts = int(entry.ts)
            if start <= ts < end and entry.tenant == tenant:
                hit = evaluate(query, entry)
                if hit is not None:
                    out.append(hit)
        return out

    async def query_range(self, request: web.Request) -> web.Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        if self.read_fault is not None:
            return web.Response(status=self.read_fault, text=f"injected {self.read_fault}\n")
        q = request.query
        try:
            query = parse_logql(q.get("query", ""))
            now = int(self.clock() * 1e9)
            start = parse_time(q.get("start"), now - 3600 * 1_000_000_000)
            end = parse_time(q.get("end"), now)
            limit = int(q.get("limit", "100"))
        except (LogQLError, ValueError) as exc:
            return web.Response(status=400, text=f"{exc}\n")
        direction = q.get("direction", "backward")
        hits = sorted(self._select(query, start, end, self._tenant(request)), key=lambda h: int(h.entry.ts))
        if direction == "backward":
            hits.reverse()
        hits = hits[:limit]
        categorize = "categorize-labels" in request.headers.get(FLAGS_HEADER, "")
        data: dict[str, Any] = {"resultType": "streams", "result": _streams(hits, categorize), "stats": {}}
        if categorize:
            data["encodingFlags"] = ["categorize-labels"]
        return web.Response(
            body=orjson.dumps({"status": "success", "data": data}), content_type="application/json"
        )

    async def tail(self, request: web.Request) -> web.StreamResponse:
        denied = self._denied(request)
        if denied is not None:
            return denied
        tenant = self._tenant(request)
        q = request.query
        try:
            query = parse_logql(q.get("query", ""))
            now = int(self.clock() * 1e9)
            start = parse_time(q.get("start"), now - 3600 * 1_000_000_000)
            limit = int(q.get("limit", "100"))
        except (LogQLError, ValueError) as exc:
            return web.Response(status=400, text=f"{exc}\n")
        categorize = "categorize-labels" in request.headers.get(FLAGS_HEADER, "")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.tails.add(ws)
        try:
            seen = len(self.fake.entries)
            replay = sorted(self._select(query, start, 1 << 63, tenant), key=lambda h: int(h.entry.ts))[
                -limit:
            ]
            if replay:
                await ws.send_str(self._frame(replay, categorize, replay=True).decode())
            reader = asyncio.ensure_future(ws.receive())
            while not ws.closed:
                done, _ = await asyncio.wait({reader}, timeout=self.live_delay)
                if done and reader.result().type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
                if done:
                    reader = asyncio.ensure_future(ws.receive())
                new = self.fake.entries[seen:]
                seen += len(new)
                fresh = [e for e in new if e.tenant == tenant]
                hits = [h for h in (evaluate(query, e) for e in fresh) if h is not None]
                if hits:
                    await ws.send_str(self._frame(hits, categorize, replay=False).decode())
            reader.cancel()
        finally:
            self.tails.discard(ws)
            with contextlib.suppress(ConnectionError):
                await ws.close()
        return ws

    def _frame(self, hits: list[Evaluated], categorize: bool, *, replay: bool) -> bytes:
        frame: dict[str, Any] = {}
        dropped: list[dict[str, Any]] = []
        if not replay and self.drop_next_live:
            cut = min(self.drop_next_live, len(hits))
            self.drop_next_live -= cut
            dropped = [{"timestamp": h.entry.ts, "labels": h.entry.labels} for h in hits[:cut]]
            hits = hits[cut:]
        if categorize:
            frame["streams"] = _streams(hits, True)
            frame["encodingFlags"] = ["categorize-labels"]
        elif replay:
            frame["streams"] = [
                {
                    "stream": {**h.entry.labels, **h.entry.metadata, **h.parsed},
                    "values": [[h.entry.ts, h.entry.line]],
                }
                for h in hits
            ]
        else:
            frame["streams"] = [
                {"stream": dict(h.entry.labels), "values": [[h.entry.ts, h.entry.line]]} for h in hits
            ]
        if dropped:
            frame["dropped_entries"] = dropped
        return orjson.dumps(frame)


def _pair(hit: Evaluated) -> list[str]:
    return [hit.entry.ts, hit.entry.line]


def _streams(hits: list[Evaluated], categorize: bool) -> list[dict[str, Any]]:
    streams: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for hit in hits:
        entry = hit.entry
        labels = dict(entry.labels) if categorize else {**entry.labels, **entry.metadata, **hit.parsed}
        key = tuple(sorted(labels.items()))
        stream = streams.setdefault(key, {"stream": labels, "values": []})
        value: list[Any] = [entry.ts, entry.line]
        if categorize:
            extra = {k: v for k, v in (("structuredMetadata", entry.metadata), ("parsed", hit.parsed)) if v}
            if extra:
                value.append(extra)
        stream["values"].append(value)
    return list(streams.values())


def add_read_routes(fake: LokiFake, *, live_delay: float = 0.05) -> LokiRead:
    """Add ``query_range`` and ``tail`` to ``fake.app`` (call before ``fake.start()``)."""
    read = LokiRead(fake, live_delay=live_delay)
    fake.app.router.add_get(QUERY_RANGE, read.query_range)
    fake.app.router.add_get(TAIL, read.tail)
    return read
