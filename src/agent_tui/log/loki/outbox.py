"""What the Loki handler and its sender share: the queued entry, push settings, counters, the queue seam."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Counters", "Entry", "Outbox", "PushSettings"]

Entry = tuple[int, int, str, bytes, str | None]
"""Queued record: (seq, ts in ns, level label, JSON line, trace id)."""


@dataclass(frozen=True, slots=True)
class PushSettings:
    """Where and how the sender pushes."""

    url: str
    """The full push URL (``…/loki/api/v1/push``)."""
    headers: Mapping[str, str]
    agent_id: str
    service: str
    gzip_level: int
    timeout: float
    backoff_base: float
    backoff_max: float


@dataclass(slots=True)
class Counters:
    """Delivery counts, written by the sender and read by ``LokiHandler.stats()`` from any thread."""

    sent: int = 0
    """Records Loki accepted."""
    rejected: int = 0
    """Records refused (a 4xx other than 429) or given up at close."""
    retried: int = 0
    """Retry attempts after 429, 5xx or network errors."""
    failed_batches: int = 0
    """Batches given up."""
    warned: bool = False
    """The first rejection was reported on stderr (later ones are only counted)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def give_up(self, records: int, *, batches: int = 0) -> None:
        """Count ``records`` (in ``batches`` batches) as never to be delivered."""
        with self.lock:
            self.rejected += records
            self.failed_batches += batches


class Outbox(Protocol):
    """The queue the sender drains (``LokiHandler`` is one)."""

    stopping: bool
    """Set by ``close()``: deliver what is queued, then end."""
    flush_requested: bool
    """Set by ``flush()``: send what is queued now, however young; the sender clears it once drained."""

    def queued(self) -> int:
        """Records waiting now."""
        ...

    def take_batch(self, now_ns: int, force: bool) -> list[Entry]:
        """Pop the next batch if one is due (full, old enough, or ``force``); empty list otherwise."""
        ...

    def done(self, last_seq: int) -> None:
        """Every record up to ``last_seq`` is finished (sent or given up)."""
        ...

    def abandon(self, inflight: int = 0) -> None:
        """Give up ``inflight`` records plus everything still queued."""
        ...
