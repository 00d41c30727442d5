"""Hand queued batches to the drain in arrival order, parsed in-process or (in a backlog) by a worker."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from agent_tui.model.livebatch import LiveParsed, ParserState
from agent_tui.model.liveparse import ParseWorker
from agent_tui.model.session import LogModel
from agent_tui.sources.base import LineBatch
from agent_tui.tui.inbox import BatchInbox

__all__ = ["LiveFold"]

WORKER_BACKLOG: Final = 2_048
"""Queued lines from which live batches go to the parse worker: one worker slice waiting is parsed sooner
there (a round trip of a few ms) than here (about 20 ms), so a burst's first megabytes go too."""
WORKER_RATE: Final = 40_000
"""Live lines a second from which live batches go to the parse worker: below, parsing in-process costs
less latency than a round trip; above, the app's one core is what limits the rate it keeps up with
(a fast writer is read as fast as it is ingested, so no backlog shows in the inbox)."""
RATE_WINDOW_S: Final = 0.1
"""How often the live rate is measured."""
WORKER_SLICE: Final = 2_048
"""Lines per batch sent to the worker (one round trip per batch)."""
LOCAL_SLICE: Final = 512
"""Lines per batch parsed in-process; the drain checks its time budget between batches."""
WORKER_WAITS: Final = 3
"""Batches in a row the app waited for, from which the worker leaves sums and signals (about 40 % of its
work) to the app: the worker is then the slower of the two. With the compiled scanner its parse costs
about half the app's fold, so it usually works them out: 159-182 k lines/s against 122-129 k when it
left them whenever three batches were unanswered (bench_tui follow, spaced, single runs at load 1)."""
REFILL_LINES: Final = 2_048
"""Lines sent to the worker after which an empty inbox ends the caller's turn (see ``_refill_due``)."""
AHEAD_LINES: Final = 24_000
"""Most lines taken from the inbox ahead of the fold (sent to the worker or waiting behind its answer)."""


@dataclass(slots=True)
class _Queued:
    batch: LineBatch
    ticket: int
    """0: parse in-process when its turn comes; else the worker's ticket."""


class LiveFold:
    """Takes batches from the inbox in order and hands each out parsed, strictly in that order.

    A live source whose backlog passes ``backlog_lines`` moves to a worker process (started on demand;
    in-process parsing goes on until it answers): its parser's state goes along with the first batch,
    and comes back with the last one in flight, so a trickle afterwards is parsed in-process again
    exactly as the worker would have. Batches of other sources queued behind a worker's batch wait for
    its answer, so the store sees the same order as without a worker. If the worker dies, what it had
    not answered is parsed in-process from the last state it returned: nothing is lost.

    Args:
        inbox: Where the sources queue their batches.
        wake: Called from the worker's thread when an answer arrived.
        make_worker: Builds the worker for a model (default: ``LogModel.parse_worker``).
        backlog_lines: See ``WORKER_BACKLOG``.
        rate: See ``WORKER_RATE``.
    """

    def __init__(
        self,
        inbox: BatchInbox,
        wake: Callable[[], object],
        *,
        make_worker: Callable[[LogModel], ParseWorker] | None = None,
        backlog_lines: int = WORKER_BACKLOG,
        rate: float = WORKER_RATE,
    ) -> None:
        self.inbox = inbox
        self._wake = wake
        self._make_worker = make_worker
        self._backlog = backlog_lines
        self._hot_rate = rate
        self._window = (time.monotonic(), 0)
        self._hot = False
        self.worker: ParseWorker | None = None
        """The parse worker, once one was needed."""
        self.sent_lines = 0
        """Lines handed to the worker so far."""
        self._queue: deque[_Queued] = deque()
        self._queued_lines = 0
        self._tickets = 0
        self._ahead_since_turn = 0
        self._remote: dict[str, int] = {}
        """Sources parsed by the worker: batches sent and not folded yet."""
        self._local: dict[str, int] = {}
        """Queued batches per source waiting to be parsed in-process."""
        self._states: dict[str, ParserState] = {}
        """Each remote source's parser state after its last folded batch (to continue if the worker dies)."""
        self._waits = 0
        """Batches in a row whose answer was missing when their turn came (see ``WORKER_WAITS``)."""
        self._waited_for = 0
        """The ticket last counted in ``_waits`` (each batch counts once however often it is asked for)."""

    @property
    def pending_lines(self) -> int:
        """Lines not ingested yet (queued in the inbox or taken ahead)."""
        return self.inbox.pending_lines + self._queued_lines

    def holds(self, paths: set[str]) -> bool:
        """True while a batch read from one of ``paths`` waits to be ingested."""
        return self.inbox.holds(paths) or any(q.batch.path in paths for q in self._queue)

    @property
    def has_work(self) -> bool:
        """True when ``take`` would hand out a batch without waiting for the worker."""
        if self._queue:
            head = self._queue[0]
            worker = self.worker
            return not head.ticket or worker is None or worker.ended or worker.has(head.ticket)
        return len(self.inbox) > 0

    def take(self, model: LogModel, *, allow_worker: bool) -> tuple[LineBatch, LiveParsed | None] | None:
        """The next batch in arrival order with the worker's answer (None: parse it in-process now), or
        None when nothing is ready (the worker wakes the app when its answer arrives) or when the caller
        should let the loop turn first (see ``_refill_due``; batches just sent wake it again)."""
        self._dispatch(model, allow_worker and model.parses_elsewhere)
        if self.worker is not None:
            self.worker.pump()
        if self._refill_due():
            return None
        if not self._queue:
            return None if len(self.inbox) == 0 else (self._take_local(), None)
        head = self._queue[0]
        if not head.ticket:
            self._pop()
            self._local[head.batch.source] -= 1
            return head.batch, None
        name = head.batch.source
        worker = self.worker
        assert worker is not None
        parsed = worker.result(head.ticket)
        if parsed is None and head.ticket != self._waited_for:
            self._waits += 1
            self._waited_for = head.ticket
        elif parsed is not None and head.ticket != self._waited_for:
            self._waits = 0
        if parsed is None:
            if not worker.ended:
                return None
            return self._lost_worker(model, head)
        self._pop()
        self._states[name] = parsed.state
        self._remote[name] -= 1
        if not self._remote[name]:
            # The last batch in flight: the source's parser continues in-process from here.
            del self._remote[name]
            model.resume_parser(name, self._states.pop(name))
        return head.batch, parsed

    def _refill_due(self) -> bool:
        """True once per ``REFILL_LINES`` sent ahead to the worker while the inbox ran dry: the caller then
        lets the loop turn, so a source that reads one block per turn can hand in its next one (a drain
        holding the loop for its whole time budget made a fast file's reader the slowest step)."""
        worker = self.worker
        if self._ahead_since_turn < REFILL_LINES or len(self.inbox) or worker is None or not worker.ready:
            return False
        self._ahead_since_turn = 0
        return True

    def _take_local(self) -> LineBatch:
        batch = self.inbox.take(LOCAL_SLICE)
        assert batch is not None
        self._count(batch)
        return batch

    def _pop(self) -> None:
        head = self._queue.popleft()
        self._queued_lines -= len(head.batch.lines)

    def _dispatch(self, model: LogModel, allowed: bool) -> None:
        """Send batches ahead to the worker while a remote source's backlog lasts (or starts one)."""
        inbox = self.inbox
        while len(inbox) and self._queued_lines < AHEAD_LINES:
            name = inbox.head_source
            remote = name in self._remote
            if not remote:
                if not (allowed and inbox.head_live and self._busy()):
                    if not self._queue:
                        return  # parsed in-process when taken, with no queue to wait behind
                    self._queue_local(name)
                    continue
                if not self._worker_ready(model) or self._local.get(name):
                    # Not up yet, or in-process batches of this source still wait: they carry its state.
                    if not self._queue:
                        return
                    self._queue_local(name)
                    continue
            batch = inbox.take(WORKER_SLICE)
            assert batch is not None and self.worker is not None
            self._count(batch)
            self._tickets += 1
            state = None if remote else model.parser_state(name)
            side = self._waits < WORKER_WAITS
            self.worker.submit(self._tickets, model.store.source_id(name), state, batch.lines, side=side)
            self._remote[name] = self._remote.get(name, 0) + 1
            self.sent_lines += len(batch.lines)
            self._ahead_since_turn += len(batch.lines)
            self._queue.append(_Queued(batch, self._tickets))
            self._queued_lines += len(batch.lines)

    def _busy(self) -> bool:
        """Whether live lines queue up or arrive faster than ``WORKER_RATE``."""
        return self._hot or self.inbox.pending_lines >= self._backlog

    def _count(self, batch: LineBatch) -> None:
        """Note a live batch taken from the inbox, for the rate."""
        if not batch.live:
            return
        since, lines = self._window
        lines += len(batch.lines)
        now = time.monotonic()
        if now - since >= RATE_WINDOW_S:
            self._hot = lines >= self._hot_rate * (now - since)
            self._window = (now, 0)
        else:
            self._window = (since, lines)

    def _queue_local(self, name: str) -> None:
        batch = self._take_local()
        self._local[name] = self._local.get(name, 0) + 1
        self._queue.append(_Queued(batch, 0))
        self._queued_lines += len(batch.lines)

    def warm(self, model: LogModel) -> None:
        """Start the worker now (a source began following), so a burst finds it ready: starting it
        takes about 0.1 s, a tenth of the time a 100 k-line burst has to reach the screen."""
        if model.parses_elsewhere:
            self._worker_ready(model)

    def _worker_ready(self, model: LogModel) -> bool:
        worker = self.worker
        if worker is None:
            make = self._make_worker
            worker = self.worker = make(model) if make is not None else model.parse_worker(self._wake)
            worker.start()
        return worker.ready

    def _lost_worker(self, model: LogModel, head: _Queued) -> tuple[LineBatch, LiveParsed | None]:
        """The worker died: its source continues in-process from the last answer, unanswered batches too."""
        name = head.batch.source
        state = self._states.pop(name, None)
        if state is not None:
            model.resume_parser(name, state)
        del self._remote[name]
        for queued in self._queue:
            if queued.batch.source == name and queued.ticket:
                queued.ticket = 0
                self._local[name] = self._local.get(name, 0) + 1
        self._pop()
        self._local[name] -= 1
        return head.batch, None

    def close(self) -> None:
        """End the worker (if one was started)."""
        if self.worker is not None:
            self.worker.close()
