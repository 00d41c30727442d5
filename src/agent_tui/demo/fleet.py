"""``run_fleet``: a simulated agent fleet writing rotating JSONL files through ``agent_tui.log``."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from agent_tui.demo.agents import AGENT_KINDS, Agent
from agent_tui.log import JsonFormatter, RotatingJsonlHandler, get_logger, rotated_siblings
from agent_tui.log.context import ID_SOURCE
from agent_tui.log.dlq import DeadLetterQueue
from agent_tui.schema import LEVEL_NAMES, Level

__all__ = ["FleetSummary", "run_fleet"]


@dataclass(frozen=True, slots=True)
class FleetSummary:
    """What a fleet run wrote.

    Attributes:
        counts: records per level label, every level present (zeros included).
        files: the live ``{agent_id}.jsonl`` files plus rotated siblings, sorted.
        records: total records written.
        seconds: wall-clock duration of the run.
        agents: the agent ids, in order.
        dead_letters: the dead-letter queue's SQLite file, or None when the run kept none.
    """

    counts: dict[str, int]
    files: tuple[str, ...]
    records: int
    seconds: float
    agents: tuple[str, ...] = field(default=())
    dead_letters: str | None = None


_LABELS = {int(level): level.label for level in Level}


class _LevelCounter(logging.Filter):
    """Counts records per level as the handler accepts them (exactly what reaches the file)."""

    def __init__(self, counts: Counter[str]) -> None:
        super().__init__()
        self.counts = counts

    def filter(self, record: logging.LogRecord) -> bool:
        self.counts[_LABELS.get(record.levelno, "info")] += 1
        return True


class _Pacer:
    """Spaces records so the fleet writes about ``rate`` records per second in total."""

    def __init__(self, rate: float, counts: Counter[str], deadline: float, stop: threading.Event) -> None:
        self.rate, self.counts, self.deadline, self.stop = rate, counts, deadline, stop
        self.started = time.monotonic()

    def done(self) -> bool:
        return self.stop.is_set() or time.monotonic() >= self.deadline

    async def __call__(self) -> None:
        if self.stop.is_set():
            return  # finish the current step at once: the UI waits for this thread to end
        due = self.started + sum(self.counts.values()) / self.rate
        delay = due - time.monotonic()
        await asyncio.sleep(max(0.0, min(delay, self.deadline - time.monotonic(), 1.0)))


def _agent_id(kind: str, index: int) -> str:
    return f"{kind}-agent-{index + 1:03d}"


def _open_agent(
    directory: Path,
    index: int,
    *,
    seed: int,
    counts: Counter[str],
    pace: _Pacer,
    max_bytes: int,
    dlq: Path | None,
) -> tuple[Agent, RotatingJsonlHandler]:
    cls = AGENT_KINDS[index % len(AGENT_KINDS)]
    agent_id = _agent_id(cls.kind, index)
    handler = RotatingJsonlHandler(
        directory / f"{agent_id}.jsonl",
        JsonFormatter(agent_id, cls.service),
        max_bytes=max_bytes,
        backup_count=5,
    )
    handler.addFilter(_LevelCounter(counts))
    log = get_logger(f"agent_tui.demo.{agent_id}")
    log.handlers = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    agent = cls(agent_id, log, random.Random(f"{seed}:{index}"), pace)  # noqa: S311 (simulation)
    if dlq is not None:
        # One queue per agent, as each agent process would have, all writing the same file.
        agent.dlq = DeadLetterQueue(dlq, agent_id=agent_id, service=cls.service, logger=log)
    if index >= len(AGENT_KINDS):
        agent.scripted = lambda n: None  # type: ignore[method-assign]
    return agent, handler


async def _run_agent(agent: Agent, pace: _Pacer) -> None:
    # Reproducible trace/span ids per agent task (the context var is local to this task).
    ID_SOURCE.set(random.Random(f"ids:{agent.agent_id}:{agent.rng.random()}"))  # noqa: S311 (simulation)
    n = 0
    while not pace.done():
        await agent.step(n)
        n += 1
        await pace()


def run_fleet(
    directory: str | os.PathLike[str],
    *,
    agents: int = 4,
    rate: float = 20.0,
    seconds: float | None = None,
    seed: int = 0,
    stop: threading.Event | None = None,
    max_bytes: int = 4 * 1024 * 1024,
    dead_letters: bool = True,
) -> FleetSummary:
    """Run a simulated fleet until ``seconds`` pass or ``stop`` is set (forever when neither).

    Args:
        directory: where ``{agent_id}.jsonl`` files (rotated at ``max_bytes``) are written.
        agents: how many agents; kinds rotate betting, trading, LLM tool-calling.
        rate: about how many records per second the whole fleet writes.
        seconds: how long to run; None runs until ``stop`` is set.
        seed: the same seed gives the same event content (timestamps are real time).
        stop: set it from another thread to end the run.
        max_bytes: rotation size of each agent's file.
        dead_letters: keep failed operations in ``dlq.db`` (a dead-letter queue) beside the logs.

    Returns:
        Counts by level, the files written and the duration.

    Blocking (it runs its own event loop): from async code or a UI, call it in a thread.
    Within the first ~10 s at the default rate the first agents produce at least one critical
    (``auth.revoked``) and a few errors (a DLQ'd bet, a rejected order, a crashed tool).
    """
    if agents < 1 or rate <= 0:
        raise ValueError("agents must be ≥ 1 and rate > 0")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    deadline = time.monotonic() + seconds if seconds is not None else float("inf")
    pace = _Pacer(rate, counts, deadline, stop or threading.Event())
    dlq = folder / "dlq.db" if dead_letters else None
    pairs = [
        _open_agent(folder, i, seed=seed, counts=counts, pace=pace, max_bytes=max_bytes, dlq=dlq)
        for i in range(agents)
    ]
    started = time.monotonic()

    async def main() -> None:
        await asyncio.gather(*(_run_agent(agent, pace) for agent, _ in pairs))

    try:
        asyncio.run(main())
    finally:
        for agent, handler in pairs:
            handler.close()
            if agent.dlq is not None:
                agent.dlq.close()
    files = sorted(f for _, h in pairs for f in (h.path, *rotated_siblings(h.path)))
    return FleetSummary(
        counts={label: counts[label] for label in LEVEL_NAMES},
        files=tuple(files),
        records=sum(counts.values()),
        seconds=time.monotonic() - started,
        agents=tuple(agent.agent_id for agent, _ in pairs),
        dead_letters=None if dlq is None else str(dlq),
    )
