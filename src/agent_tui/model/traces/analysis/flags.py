"""Flags raised on traces as records arrive: retry storms, agent loops, slow, costly and stuck traces.

Each batch is looked at once (never history again): records that may signal a retry or a call are
picked by their decoded keys or event names (``signals``), span end lines close traces, and per-op
running quantiles decide slow, costly and stuck. A trace's retry and call state is dropped when it
closes, so memory follows the traces in flight, not the history.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any, Final

from agent_tui.model.parsing.columns import newest_time
from agent_tui.model.query.flagfield import FLAG_NAMES
from agent_tui.model.traces.analysis.quantile import running_quantile
from agent_tui.model.traces.analysis.signals import batch_signals, call_fingerprint, call_target
from agent_tui.model.traces.analysis.thresholds import Flag, Thresholds

if TYPE_CHECKING:
    from agent_tui.model.parsing.columns import Appended, AttrsOf, ByRecord
    from agent_tui.model.store.index import Store
    from agent_tui.model.traces.forest import TraceForest

__all__ = ["FLAG_NAMES", "Flag", "FlagTracker", "Thresholds"]

_EVIDENCE: Final = 50
"""Most records kept as evidence of one flag."""
_KEPT_CLOSED: Final = 4096
"""Ended traces whose call and retry counts stay (bounded: one small dict each)."""
_NO_FLAGS: Final[Mapping[str, Flag]] = {}


class _OpStats:
    """What finished traces of one op looked like: duration quantile and median, cost and tokens."""

    __slots__ = ("cost", "duration", "median", "seen", "tokens")

    def __init__(self, q: float) -> None:
        self.seen = 0
        """Finished traces (the length of each quantile, kept as a plain int for the hot loop)."""
        self.duration = running_quantile(q)
        self.median = running_quantile(0.5)
        self.cost = running_quantile(q)
        self.tokens = running_quantile(q)


class _Tally:
    """The fingerprints of one trace's calls of one key, counted as they come.

    ``best`` is the most frequent, the first seen among equals (``Counter.most_common(1)``); each
    fingerprint keeps the seqs of its first ``_EVIDENCE`` calls, all a flag shows. Counting again over
    every call made a trace with n repeated calls cost n^2.
    """

    __slots__ = ("best", "counts", "first", "order", "taken")

    def __init__(self) -> None:
        self.taken = 0
        """Calls fingerprinted so far."""
        self.counts: dict[str, int] = {}
        self.order: dict[str, int] = {}
        self.first: dict[str, list[int]] = {}
        self.best: str | None = None

    def add(self, fp: str, seq: int) -> None:
        """Count the call ``seq`` with fingerprint ``fp``."""
        self.taken += 1
        counts = self.counts
        times = counts[fp] = counts.get(fp, 0) + 1
        if times == 1:
            self.order[fp] = len(self.order)
            self.first[fp] = [seq]
        elif len(self.first[fp]) < _EVIDENCE:
            self.first[fp].append(seq)
        best = self.best
        if (
            best is None
            or times > counts[best]
            or (times == counts[best] and self.order[fp] < self.order[best])
        ):
            self.best = fp


class FlagTracker:
    """Flags of every trace, updated per appended batch (see the module docstring).

    Args:
        store: the records (re-read only for the few calls that repeat).
        forest: the trace summaries (status, op, duration, sums).
        thresholds: when flags are raised.
        attrs_of: decodes a line when a batch kept no attribute mappings.
        now: the clock stuck traces are measured against; None uses the newest record time.
    """

    def __init__(
        self,
        store: Store,
        forest: TraceForest,
        *,
        thresholds: Thresholds | None = None,
        attrs_of: AttrsOf | None = None,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.forest = forest
        self.thresholds = thresholds or Thresholds()
        self._attrs_of = attrs_of
        self._now = now
        self._newest = float("-inf")
        self._flags: dict[str, dict[str, Flag]] = {}
        self.counts: Counter[str] = Counter()
        """Traces carrying each flag."""
        self.agent_storms: dict[str, Flag] = {}
        """Per agent, the rate-limit storm it had (``Flag.trace_id`` holds the agent)."""
        self.epoch = 0
        """Bumped whenever a flag is raised or cleared (views showing flags refresh on it)."""
        self._events: dict[str, tuple[bool, bool]] = {}
        self._retries: dict[str, dict[str, list[int]]] = {}
        self._calls: dict[str, dict[str, int | list[int]]] = {}
        """Per trace, the seq of each tool/LLM call key seen once, the seqs of those seen more often."""
        self._fps: dict[str, dict[str, _Tally]] = {}
        """Per trace and call key, its calls' fingerprints counted (taken once a key repeats enough)."""
        self._rate: dict[str, deque[tuple[float, int, str | None]]] = {}
        self._storming: set[str] = set()
        self._ops: dict[str, _OpStats] = {}
        self._running: dict[str, tuple[str, float]] = {}
        self._queues: dict[str, deque[str]] = {}
        self._closed: OrderedDict[str, None] = OrderedDict()
        """Ended traces whose call and retry counts are kept (oldest first), in case the trace goes on."""

    # -- reading ------------------------------------------------------------------------------

    def of(self, trace_id: str | None) -> Mapping[str, Flag]:
        """The flags of a trace by name (empty when it has none)."""
        return self._flags.get(trace_id, _NO_FLAGS) if trace_id is not None else _NO_FLAGS

    def names(self, trace_id: str | None) -> list[str]:
        """The flag names of a trace, in ``FLAG_NAMES`` order."""
        flags = self.of(trace_id)
        return [name for name in FLAG_NAMES if name in flags]

    def flagged(self, name: str) -> list[str]:
        """Ids of the traces carrying flag ``name``."""
        return [tid for tid, flags in self._flags.items() if name in flags]

    def summary(self) -> dict[str, object]:
        """Counts per flag, ids of the flagged traces, agents in rate-limit storms (plain JSON data)."""
        return {
            "counts": {name: self.counts[name] for name in FLAG_NAMES},
            "traces": {name: sorted(self.flagged(name)) for name in FLAG_NAMES},
            "agents": {agent: flag.reason for agent, flag in sorted(self.agent_storms.items())},
        }

    # -- updating -----------------------------------------------------------------------------

    def add(self, batch: Appended) -> set[str]:
        """Fold one appended batch in; return the ids of the traces whose flags changed."""
        changed: set[str] = set()
        if not batch.count:
            return changed
        newest = newest_time(batch.ts, batch.ts_sorted)
        self._newest = max(self._newest, newest)
        signals = batch.shipped_signals
        if signals is None:
            signals = batch_signals(batch, self._attrs_of, self._events)
        if signals:
            self._signals(batch, signals, changed)
        self._span_lines(batch, changed)
        self._check_stuck(self.now(), changed)
        if changed:
            self.epoch += 1
        return changed

    def now(self) -> float:
        """The time stuck traces are measured against."""
        return self._now() if self._now is not None else self._newest

    def check(self, now: float | None = None) -> set[str]:
        """Raise ``stuck`` on traces that have run too long by ``now`` (call it when nothing arrives)."""
        changed: set[str] = set()
        self._check_stuck(self.now() if now is None else now, changed)
        if changed:
            self.epoch += 1
        return changed

    def forget(self, held: Callable[[str], bool]) -> None:
        """Drop the state and flags of traces no longer held (their records were evicted)."""
        for table in (self._flags, self._retries, self._calls, self._fps, self._running, self._closed):
            for tid in [t for t in table if not held(t)]:
                del table[tid]
        self.counts = Counter(name for flags in self._flags.values() for name in flags)
        self.epoch += 1

    def _raise(self, tid: str, name: str, reason: str, evidence: tuple[int, ...], changed: set[str]) -> None:
        flags = self._flags.setdefault(tid, {})
        old = flags.get(name)
        if old is None:
            self.counts[name] += 1
            changed.add(tid)
            flags[name] = Flag(name, tid, reason, evidence[:_EVIDENCE])
        elif len(old.evidence) < _EVIDENCE and not set(evidence).issubset(old.evidence):
            # A second signal of the same trouble adds its records; the first reason stays.
            merged = tuple(sorted({*old.evidence, *evidence}))[:_EVIDENCE]
            flags[name] = Flag(name, tid, old.reason, merged)

    def _signals(self, batch: Appended, signals: ByRecord[tuple[Any, ...]], changed: set[str]) -> None:
        first, tids, times = batch.first_seq, batch.trace_ids, batch.ts
        calls, repeats = self._calls, self.thresholds.repeats
        for k, signal in signals.items():
            retry_key, _, _, rate_limit, key, agent = signal
            tid = tids[k]
            if rate_limit:
                self._rate_hit(agent or "", times[k], first + k, tid, changed)
            if tid is None:
                continue
            if retry_key is not None:
                self._retry(tid, signal, first + k, changed)
            if key is not None:
                # Inline: most calls are a trace's first of their key and only need remembering.
                by_key = calls.get(tid)
                if by_key is None:
                    by_key = calls[tid] = {}
                seen = by_key.get(key)
                if seen is None:
                    if repeats > 1:
                        by_key[key] = first + k
                        continue
                    seqs = by_key[key] = [first + k]
                elif type(seen) is int:
                    seqs = by_key[key] = [seen, first + k]
                else:
                    seqs = seen  # type: ignore[assignment]
                    seqs.append(first + k)
                if len(seqs) >= repeats:
                    self._call(tid, key, seqs, batch, changed)

    def _retry(self, tid: str, signal: tuple[Any, ...], seq: int, changed: set[str]) -> None:
        """One retry signal (a ``Signal``, or the plain tuple of its fields a worker shipped)."""
        retry_key, retried, attempt = signal[0], signal[1], signal[2]
        state = self._retries.setdefault(tid, {}).setdefault(retry_key, [0, 0])
        if retried:
            state[0] += 1
        state[1] = max(state[1], attempt)
        # Seqs only grow, so a flag's evidence is the first _EVIDENCE of them: keeping them all made a
        # trace retrying n times cost n^2 (a tuple of every seq, and a subset test, per retry).
        if len(state) < 2 + _EVIDENCE:
            state.append(seq)
        retries = max(state[0], state[1] - 1)
        if retries >= self.thresholds.retries:
            op = retry_key.split("\x00", 1)[0]
            self._raise(tid, "retry_storm", f"{op} retried {retries} times", tuple(state[2:]), changed)

    def _call(self, tid: str, key: str, seqs: list[int], batch: Appended, changed: set[str]) -> None:
        """Call ``key`` of trace ``tid`` happened often enough to be a loop: compare the calls' arguments."""
        tally = self._fps.setdefault(tid, {}).get(key)
        if tally is None:
            tally = self._fps[tid][key] = _Tally()
        for done in range(tally.taken, len(seqs)):
            tally.add(call_fingerprint(self._attrs(seqs[done], batch)), seqs[done])
        best = tally.best
        assert best is not None
        times = tally.counts[best]
        if times >= self.thresholds.repeats:
            same = tuple(tally.first[best])
            raised = self._flags.get(tid, {}).get("agent_loop")
            if raised is not None:
                # Its first reason stays: naming the call again would read a record back for nothing.
                self._raise(tid, "agent_loop", raised.reason, same, changed)
                return
            what = f"{key} {call_target(self._attrs(same[0], batch))}".strip()
            why = f"{what} repeated {times} times with the same arguments"
            self._raise(tid, "agent_loop", why, same, changed)

    def _attrs(self, seq: int, batch: Appended) -> Mapping[str, Any]:
        """A record's attributes: from the batch when it kept them, else read back from the store."""
        local = seq - batch.first_seq
        kept = batch.attrs[local] if batch.attrs and 0 <= local < len(batch.attrs) else None
        return kept if kept is not None else self.store.attrs(seq, cache=False)

    def _rate_hit(self, agent: str, ts: float, seq: int, tid: str | None, changed: set[str]) -> None:
        window = self._rate.setdefault(agent, deque())
        window.append((ts, seq, tid))
        span = self.thresholds.rate_window_s
        while window and ts - window[0][0] > span:
            window.popleft()
        if len(window) < self.thresholds.rate_limits:
            self._storming.discard(agent)
            return
        # Flags keep the oldest _EVIDENCE seqs: later ones of the window (seq order) could never show.
        evidence = tuple(s for _, s, _ in islice(window, _EVIDENCE))
        reason = f"{len(window)} rate-limit hits by {agent or 'one agent'} within {span:g} s"
        self.agent_storms[agent] = Flag("retry_storm", agent, reason, evidence[:_EVIDENCE])
        hit = window if agent not in self._storming else (window[-1],)
        self._storming.add(agent)
        for _, _, trace_id in hit:
            if trace_id is not None and trace_id in self.forest._index:
                self._raise(trace_id, "retry_storm", reason, evidence, changed)

    def _span_lines(self, batch: Appended, changed: set[str]) -> None:
        starts, completes, fails = self.forest.span_lines(batch)
        if not (starts or completes or fails):
            return
        tids, index = batch.trace_ids, self.forest._index
        opened = self.forest._open
        running = self._running
        for tid in dict.fromkeys([tids[k] for k in starts]):
            if tid is None or tid in running:
                continue
            i = index[tid]
            if opened[i] > 0:
                op = self._op(i)
                running[tid] = (op, self.forest._start[i])
                queue = self._queues.get(op)
                if queue is None:
                    queue = self._queues[op] = deque()
                queue.append(tid)
        ends = sorted(completes + fails) if fails else completes
        ended = [(tid, index[tid]) for tid in dict.fromkeys([tids[k] for k in ends]) if tid is not None]
        self._close([(tid, i) for tid, i in ended if opened[i] <= 0], changed)

    def _op(self, i: int) -> str:
        # The name column, not Trace.op: that falls back to building the span tree.
        op = self.forest._op[i]
        return self.forest._ops.strings[op] if op >= 0 else ""

    def _close(self, ended: list[tuple[str, int]], changed: set[str]) -> None:
        """Traces whose last span ended: judge each against its op, then forget its in-flight state.

        A hot loop (one pass per trace), so what it reads is bound to locals first.
        """
        forest, th = self.forest, self.thresholds
        ends, starts, costs, tokens_of, op_ids = (
            forest._end,
            forest._start,
            forest._cost,
            forest._tokens,
            forest._op,
        )
        op_names, ops = forest._ops.strings, self._ops
        running_pop, flags_get = self._running.pop, self._flags.get
        closed, calls, retries = self._closed, self._calls, self._retries
        min_traces, margin = th.min_traces, th.margin
        for tid, i in ended:
            running_pop(tid, None)
            # Its call and retry counts stay a while (see _forget_oldest_closed).
            closed.pop(tid, None)
            if tid in calls or tid in retries:
                closed[tid] = None
                if len(closed) > _KEPT_CLOSED:
                    self._forget_oldest_closed()
            flags = flags_get(tid)
            if flags is not None and flags.pop("stuck", None) is not None:
                self.counts["stuck"] -= 1
                changed.add(tid)
            op_id = op_ids[i]
            op = op_names[op_id] if op_id >= 0 else ""
            stats = ops.get(op)
            if stats is None:
                stats = ops[op] = _OpStats(th.quantile)
            duration = (ends[i] - starts[i]) * 1000.0
            cost, tokens = costs[i], tokens_of[i]
            seen = stats.seen
            stats.seen = seen + 1
            if seen >= min_traces:
                if duration > stats.duration.value * margin:
                    self._judged(tid, i, "slow", (op, seen, duration, stats.duration.value), changed)
                if cost and cost > stats.cost.value * margin:
                    self._judged(tid, i, "costly", (op, seen, cost, stats.cost.value), changed)
                elif tokens and tokens > stats.tokens.value * margin:
                    self._judged(tid, i, "tokens", (op, seen, tokens, stats.tokens.value), changed)
            stats.duration.add(duration)
            stats.median.later(duration)  # read once per batch, by _check_stuck
            stats.cost.add(cost)
            stats.tokens.add(float(tokens))

    def _judged(
        self, tid: str, i: int, what: str, numbers: tuple[str, int, float, float], changed: set[str]
    ) -> None:
        """Raise ``slow`` or ``costly`` (by cost or by tokens) on a closed trace, with the reason.

        ``numbers`` are the op, how many of its traces were seen, the trace's value and the quantile.
        """
        op, seen, found, limit = numbers
        pct = f"p{self.thresholds.quantile * 100:g}"
        of = f"of {seen} {op or '?'} traces"
        if what == "slow":
            name, why = what, f"{found:.0f} ms > {pct} {limit:.0f} ms {of}"
        elif what == "costly":
            name, why = what, f"cost ${found:.4f} > {pct} ${limit:.4f} {of}"
        else:
            name, why = "costly", f"{found} tokens > {pct} {limit:.0f} {of}"
        self._raise(tid, name, why, (self.forest._first[i], self.forest._last[i]), changed)

    def _forget_oldest_closed(self) -> None:
        """Drop the call and retry counts of the trace that ended longest ago.

        An ended trace keeps them (newest ``_KEPT_CLOSED`` only) because a trace id can go on after its
        last span ended (sequential root spans under one id): its calls still count together, as they
        would had the whole trace arrived in one batch.
        """
        oldest = self._closed.popitem(last=False)[0]
        self._calls.pop(oldest, None)
        self._fps.pop(oldest, None)
        self._retries.pop(oldest, None)

    def _check_stuck(self, now: float, changed: set[str]) -> None:
        th = self.thresholds
        for op, queue in self._queues.items():
            stats = self._ops.get(op)
            if stats is None or len(stats.median) < th.stuck_min_traces or not queue:
                continue
            median_ms = stats.median.value
            limit = max(th.stuck_factor * median_ms / 1000.0, th.stuck_floor_s)
            while queue:
                tid = queue[0]
                entry = self._running.get(tid)
                if entry is None:
                    queue.popleft()
                    continue
                age = now - entry[1]
                if age <= limit:
                    break
                queue.popleft()
                i = self.forest._index.get(tid)
                if i is None:
                    continue
                why = (
                    f"running {age:.1f} s > {th.stuck_factor:g} × median {median_ms:.0f} ms "
                    f"of {len(stats.median)} {op or '?'} traces"
                )
                self._raise(tid, "stuck", why, (self.forest._first[i],), changed)
