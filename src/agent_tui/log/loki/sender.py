"""The sender: runs in the handler's thread, owns one ``aiohttp.ClientSession``, pushes, retries, counts."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import gzip
import random
import sys
import time
from typing import Any, Final

import aiohttp
import orjson

from agent_tui.log.loki.outbox import Counters, Entry, Outbox, PushSettings

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
    """Drains an outbox into pushes, one request in flight at a time, and counts the outcome."""

    def __init__(self, outbox: Outbox, settings: PushSettings, counters: Counters) -> None:
        """Drain ``outbox`` to ``settings.url``, writing delivery counts into ``counters``."""
        self.outbox = outbox
        self.settings = settings
        self.counters = counters
        self.wake = asyncio.Event()
        self.inflight: list[Entry] = []

    async def run(self) -> None:
        """Send batches as they become due until the outbox stops; count what is left if cancelled."""
        outbox = self.outbox
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            try:
                while not (outbox.stopping and not outbox.queued()):
                    force = outbox.flush_requested or outbox.stopping
                    batch = outbox.take_batch(time.time_ns(), force)
                    if batch:
                        self.inflight = batch
                        await self._deliver(session, batch)
                        self.inflight = []
                        outbox.done(batch[-1][0])
                        continue
                    if outbox.queued() == 0:
                        outbox.flush_requested = False
                    self.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), _POLL)
            except asyncio.CancelledError:
                if self.inflight:
                    self.counters.give_up(0, batches=1)
                    outbox.abandon(len(self.inflight))
                raise

    async def _deliver(self, session: aiohttp.ClientSession, batch: list[Entry]) -> None:
        settings, counters = self.settings, self.counters
        body = encode_push(batch, settings.agent_id, settings.service)
        headers = dict(settings.headers)
        if settings.gzip_level:
            body = gzip.compress(body, compresslevel=settings.gzip_level)
            headers["Content-Encoding"] = "gzip"
        attempt = 0
        while True:
            status, text, retry_after = await self._post(session, body, headers)
            if status is not None and 200 <= status < 300:
                counters.sent += len(batch)
                return
            if status is not None and 400 <= status < 500 and status != 429:
                self._reject(batch, status, text)
                return
            counters.retried += 1
            delay = retry_after
            if delay is None:
                delay = min(settings.backoff_max, settings.backoff_base * 2**attempt)
                delay *= random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not crypto)
            attempt += 1
            await asyncio.sleep(delay)

    async def _post(
        self, session: aiohttp.ClientSession, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str, float | None]:
        try:
            async with session.post(self.settings.url, data=body, headers=headers) as resp:
                text = "" if resp.status < 300 else (await resp.text(errors="replace"))[:500]
                return resp.status, text, retry_after_seconds(resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, repr(exc), None

    def _reject(self, batch: list[Entry], status: int, text: str) -> None:
        counters = self.counters
        counters.give_up(len(batch), batches=1)
        if not counters.warned:
            counters.warned = True
            sys.stderr.write(
                f"agent_tui.log: Loki rejected a batch of {len(batch)} records with HTTP {status}: "
                f"{text.strip()[:300]}; dropping it (later rejections are only counted).\n"
            )
