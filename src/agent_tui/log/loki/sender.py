"""The sender: runs in the handler's thread, owns one ``aiohttp.ClientSession``, pushes and retries."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import gzip
import random
import sys
import time
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import orjson

if TYPE_CHECKING:
    from agent_tui.log.loki.handler import Entry, LokiHandler

__all__ = ["Sender", "encode_push", "retry_after_seconds"]

_POLL: Final = 0.05
_MAX_RETRY_AFTER: Final = 300.0


def encode_push(batch: list[Entry], agent_id: str, service: str) -> bytes:
    """The push body: one stream per level, ``[ts, line, {trace_id}]`` values, timestamps as strings."""
    streams: dict[str, list[list[Any]]] = {}
    for _seq, ts, level, line, trace_id in batch:
        value: list[Any] = [str(ts), line.decode("utf-8", "replace")]
        if trace_id is not None:
            value.append({"trace_id": trace_id})
        values = streams.get(level)
        if values is None:
            values = streams[level] = []
        values.append(value)
    return orjson.dumps(
        {
            "streams": [
                {"stream": {"agent_id": agent_id, "service": service, "level": level}, "values": values}
                for level, values in streams.items()
            ]
        }
    )


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return min(_MAX_RETRY_AFTER, max(0.0, float(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(_MAX_RETRY_AFTER, max(0.0, when.timestamp() - time.time()))


class Sender:
    """Drains the handler's queue into pushes; one request in flight at a time."""

    def __init__(self, handler: LokiHandler) -> None:
        """Bind to ``handler`` (its queue, counters and settings)."""
        self.handler = handler
        self.wake = asyncio.Event()
        self.inflight: list[Entry] = []

    async def run(self) -> None:
        """Send batches as they become due until the handler stops; count what is left if cancelled."""
        handler = self.handler
        timeout = aiohttp.ClientTimeout(total=handler.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            try:
                while not (handler.stopping and not handler.stats().queued):
                    force = handler.flush_requested or handler.stopping
                    batch = handler.take_batch(time.time_ns(), force)
                    if batch:
                        self.inflight = batch
                        await self._deliver(session, batch)
                        self.inflight = []
                        handler.done(batch[-1][0])
                        continue
                    if handler.stats().queued == 0:
                        handler.flush_requested = False
                    self.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), _POLL)
            except asyncio.CancelledError:
                if self.inflight:
                    handler.failed_batches += 1
                    handler.abandon(len(self.inflight))
                raise

    async def _deliver(self, session: aiohttp.ClientSession, batch: list[Entry]) -> None:
        handler = self.handler
        body = encode_push(batch, handler.agent_id, handler.service)
        headers = dict(handler.headers)
        if handler.gzip_level:
            body = gzip.compress(body, compresslevel=handler.gzip_level)
            headers["Content-Encoding"] = "gzip"
        attempt = 0
        while True:
            status, text, retry_after = await self._post(session, body, headers)
            if status is not None and 200 <= status < 300:
                handler.sent += len(batch)
                return
            if status is not None and 400 <= status < 500 and status != 429:
                self._reject(batch, status, text)
                return
            handler.retried += 1
            delay = retry_after
            if delay is None:
                delay = min(handler.backoff_max, handler.backoff_base * 2**attempt)
                delay *= random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not crypto)
            attempt += 1
            await asyncio.sleep(delay)

    async def _post(
        self, session: aiohttp.ClientSession, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str, float | None]:
        try:
            async with session.post(self.handler.url, data=body, headers=headers) as resp:
                text = "" if resp.status < 300 else (await resp.text(errors="replace"))[:500]
                return resp.status, text, retry_after_seconds(resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, repr(exc), None

    def _reject(self, batch: list[Entry], status: int, text: str) -> None:
        handler = self.handler
        handler.reject(len(batch))
        if not handler.warned:
            handler.warned = True
            sys.stderr.write(
                f"agent_tui.log: Loki rejected a batch of {len(batch)} records with HTTP {status}: "
                f"{text.strip()[:300]}; dropping it (later rejections are only counted).\n"
            )
