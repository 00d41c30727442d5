"""``LokiHandler``: a non-blocking ``logging.Handler`` with a bounded drop-oldest queue and counters."""

from __future__ import annotations

import asyncio
import atexit
import base64
import collections
import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from agent_tui.log._encode import dumps_value
from agent_tui.log.formatter import JsonFormatter
from agent_tui.log.loki.outbox import Counters, Entry, PushSettings

__all__ = ["LokiHandler", "LokiStats"]

PUSH_PATH: Final = "/loki/api/v1/push"

_live: weakref.WeakSet[LokiHandler] = weakref.WeakSet()


@dataclass(frozen=True, slots=True)
class LokiStats:
    """Delivery counters of a :class:`LokiHandler` (records unless named otherwise).

    Attributes:
        sent: records Loki accepted.
        dropped: records that will never be delivered (queue overflow, rejected batches, abandoned at close).
        overflow: the part of ``dropped`` lost to the full queue (oldest first).
        retried: retry attempts after 429, 5xx or network errors.
        failed_batches: batches given up (a 4xx other than 429, or still failing at close).
        queued: records waiting in the queue now.
    """

    sent: int
    dropped: int
    overflow: int
    retried: int
    failed_batches: int
    queued: int


class LokiHandler(logging.Handler):
    """Pushes records to Loki in batches from a background thread; ``emit()`` never blocks or raises.

    Streams are labelled ``agent_id``, ``service`` and ``level`` only; ``trace_id`` travels as structured
    metadata. Batches close at ``batch_max_lines``, ``batch_max_bytes`` or ``batch_max_age`` seconds,
    are gzipped, and are retried on 429/5xx/network errors with exponential backoff and jitter (honouring
    ``Retry-After``), keeping each entry's timestamp so Loki deduplicates partial successes. The queue
    holds ``queue_size`` records and drops the oldest when full. ``flush()``/``close()`` deliver what is
    queued within a timeout, and run at interpreter exit.
    """

    def __init__(
        self,
        url: str,
        *,
        agent_id: str,
        service: str,
        tenant_id: str | None = None,
        bearer_token: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        formatter: JsonFormatter | None = None,
        batch_max_lines: int = 2000,
        batch_max_bytes: int = 1024 * 1024,
        batch_max_age: float = 1.0,
        queue_size: int = 100_000,
        timeout: float = 10.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        close_timeout: float = 5.0,
        gzip_level: int = 1,
        level: int = logging.NOTSET,
    ) -> None:
        """Create the handler; the background thread starts on the first record.

        Args:
            url: Loki base URL (``http://host:3100``) or the full push URL.
            agent_id: the ``agent_id`` label.
            service: the ``service`` label.
            tenant_id: sent as ``X-Scope-OrgID``.
            bearer_token: sent as ``Authorization: Bearer …``.
            basic_auth: ``(user, password)`` sent as HTTP basic auth.
            formatter: renders the line; defaults to ``JsonFormatter(agent_id, service)``.
            batch_max_lines: most entries per push.
            batch_max_bytes: most line bytes per push (before gzip).
            batch_max_age: push at least this often (seconds) while records wait.
            queue_size: most records waiting; beyond it the oldest are dropped and counted.
            timeout: per-request timeout in seconds.
            backoff_base: first retry delay in seconds (doubles per attempt, with jitter).
            backoff_max: longest retry delay.
            close_timeout: how long ``close()`` (and interpreter exit) waits for delivery.
            gzip_level: gzip level for request bodies (0 sends them uncompressed).
            level: handler level.
        """
        super().__init__(level)
        base = url.rstrip("/")
        self.settings = PushSettings(
            url=base if base.endswith(PUSH_PATH) else base + PUSH_PATH,
            headers=_headers(tenant_id, bearer_token, basic_auth),
            agent_id=agent_id,
            service=service,
            gzip_level=gzip_level,
            timeout=timeout,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
        )
        self.json = formatter or JsonFormatter(agent_id, service)
        self.setFormatter(self.json)
        self.batch_max_lines = max(1, batch_max_lines)
        self.batch_max_bytes = max(1, batch_max_bytes)
        self.batch_max_age = batch_max_age
        self.queue_size = max(1, queue_size)
        self.close_timeout = close_timeout
        self._reset_state()
        _live.add(self)

    def _reset_state(self) -> None:
        self._queue: collections.deque[Entry] = collections.deque()
        self._qlock = threading.Lock()
        self._progress = threading.Condition()
        self._seq = 0
        self._done_seq = 0
        self._last_ts = 0
        self._overflow = 0
        self.counters = Counters()
        self.flush_requested = False
        self.stopping = False
        self._closed = False
        self._wake_pending = False
        self._thread: threading.Thread | None = None
        self._thread_ident = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: Any = None
        self._task: asyncio.Task[None] | None = None

    # ---- producer side (any thread) ---------------------------------------------------------------

    def handle(self, record: logging.LogRecord) -> bool:
        """Filter and emit without the handler lock; ``emit`` has its own short critical section."""
        if self.filters and not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record for delivery; O(1), never blocks on the network, never raises."""
        try:
            if self._closed or threading.get_ident() == self._thread_ident:
                return
            out = self.json.build(record)
            line = dumps_value(out)
            trace_id = out.get("trace_id")
            ts = int(record.created * 1e9)
            queue = self._queue
            with self._qlock:
                if ts <= self._last_ts:
                    ts = self._last_ts + 1  # distinct timestamps: Loki would merge identical (ts, line)
                self._last_ts = ts
                self._seq += 1
                if len(queue) >= self.queue_size:
                    queue.popleft()
                    self._overflow += 1
                tid = None if trace_id is None else str(trace_id)
                queue.append((self._seq, ts, str(out["level"]), line, tid))
                size = len(queue)
            if self._thread is None:
                self._start()
            elif size >= self.batch_max_lines and not self._wake_pending:
                self._wake_soon()
        except Exception:
            self.handleError(record)

    def _wake_soon(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # the loop is already closed during shutdown
            loop.call_soon_threadsafe(wake.set)

    def _start(self) -> None:
        with self._progress:
            if self._thread is not None:
                return
            ready = threading.Event()
            self._thread = threading.Thread(
                target=self._thread_main, args=(ready,), name="agent-tui-loki", daemon=True
            )
            self._thread.start()
        ready.wait(5.0)

    def _thread_main(self, ready: threading.Event) -> None:
        from agent_tui.log.loki.sender import Sender  # noqa: PLC0415 (keeps aiohttp off import)

        self._thread_ident = threading.get_ident()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        sender = Sender(self, self.settings, self.counters)
        self._wake = sender.wake
        self._task = loop.create_task(sender.run())
        ready.set()
        try:
            loop.run_until_complete(self._task)
        except BaseException:  # noqa: S110 (cancelled at close; the sender counted what it abandoned)
            pass
        finally:
            self.abandon()
            with self._progress:
                self._progress.notify_all()
            loop.close()

    # ---- consumer side (the sender thread) --------------------------------------------------------

    def take_batch(self, now_ns: int, force: bool) -> list[Entry]:
        """Pop the next batch if one is due (full, old enough, or ``force``); empty list otherwise."""
        queue = self._queue
        if not queue:
            return []
        if not force and len(queue) < self.batch_max_lines:
            oldest = queue[0][1]
            if now_ns - oldest < self.batch_max_age * 1e9:
                return []
        batch: list[Entry] = []
        size = 0
        with self._qlock:
            while queue and len(batch) < self.batch_max_lines:
                entry = queue[0]
                size += len(entry[3])
                if batch and size > self.batch_max_bytes:
                    break
                batch.append(queue.popleft())
        self._wake_pending = False
        return batch

    def done(self, last_seq: int) -> None:
        """Mark every record up to ``last_seq`` as finished (sent or given up) and wake ``flush()``."""
        with self._progress:
            self._done_seq = max(self._done_seq, last_seq)
            self._progress.notify_all()

    def queued(self) -> int:
        """Records waiting now."""
        return len(self._queue)

    def abandon(self, inflight: int = 0) -> None:
        """Give up ``inflight`` records plus everything still queued: count them dropped, drain the queue."""
        with self._qlock:
            self.counters.give_up(inflight + len(self._queue))
            last = self._queue[-1][0] if self._queue else self._seq
            self._queue.clear()
        self.done(last)

    # ---- control ----------------------------------------------------------------------------------

    def stats(self) -> LokiStats:
        """A snapshot of the delivery counters."""
        counters = self.counters
        return LokiStats(
            sent=counters.sent,
            dropped=self._overflow + counters.rejected,
            overflow=self._overflow,
            retried=counters.retried,
            failed_batches=counters.failed_batches,
            queued=len(self._queue),
        )

    @property
    def dropped(self) -> int:
        """Records that will never be delivered."""
        return self._overflow + self.counters.rejected

    def flush(self, timeout: float | None = None) -> bool:  # type: ignore[override]
        """Deliver everything queued so far; True when done within ``timeout`` (default ``close_timeout``).

        Blocks the calling thread; from async code use ``await asyncio.to_thread(handler.flush)``.
        """
        with self._qlock:
            target = self._seq
        if target <= self._done_seq or self._thread is None:
            return target <= self._done_seq
        if threading.get_ident() == self._thread_ident:
            return False
        self.flush_requested = True
        self._wake_soon()
        wait = self.close_timeout if timeout is None else timeout
        with self._progress:
            return self._progress.wait_for(lambda: self._done_seq >= target or not self._thread_alive(), wait)

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self, timeout: float | None = None) -> None:
        """Deliver what is queued (within ``timeout``, default ``close_timeout``), then stop the thread."""
        if self._closed:
            return
        wait = self.close_timeout if timeout is None else timeout
        self.flush(wait)
        self._closed = True
        self.stopping = True
        thread, loop, task = self._thread, self._loop, self._task
        if thread is not None and loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)
            thread.join(timeout=max(1.0, wait))
        elif self._queue:
            self.abandon()
        _live.discard(self)
        super().close()

    def _after_fork(self) -> None:
        # The sender thread does not exist in a forked child; start afresh so the parent's
        # queued records are not sent twice.
        self._reset_state()


def _headers(tenant: str | None, token: str | None, basic: tuple[str, str] | None) -> Mapping[str, str]:
    headers = {"Content-Type": "application/json"}
    if tenant:
        headers["X-Scope-OrgID"] = tenant
    if token:
        headers["Authorization"] = f"Bearer {token}"
    elif basic:
        raw = f"{basic[0]}:{basic[1]}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
    return headers


def _close_all() -> None:
    for handler in list(_live):
        handler.close()


def _after_fork_in_child() -> None:
    for handler in list(_live):
        handler._after_fork()


atexit.register(_close_all)
os.register_at_fork(after_in_child=_after_fork_in_child)
