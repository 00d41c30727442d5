"""Worker processes that parse pieces of a file, fed through pipes by a caller with no thread of its own."""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import multiprocessing.context
    import multiprocessing.process
    from multiprocessing.connection import Connection

    Context = (
        multiprocessing.context.ForkContext
        | multiprocessing.context.ForkServerContext
        | multiprocessing.context.SpawnContext
    )

__all__ = ["COLLECT_EVERY", "Collector", "Workers"]

_PIPE_BYTES = 1 << 20
"""Pipe buffer asked for (Linux's default limit for a user): a worker's answer for a 1 MiB piece is
about as large, so it can finish sending and start its next piece before the caller reads it."""
HELD = 2
"""Jobs a worker is given at most (one being worked on, one queued): answers never pile up."""
COLLECT_EVERY = 8
"""Jobs (1 MiB pieces) a worker does between two collections of its own."""


class Collector:
    """The cyclic collector of a worker process: off, what is alive now frozen out of it, and run by
    hand every ``every`` jobs.

    A parse allocates millions of short-lived objects and hardly any cycles: the collections those
    allocations set off cost a worker 12-17 % of its time (a live worker 5.2 -> 4.5 us a line; a
    history worker, started by the forkserver with it on, 2.65 -> 2.22). With the start-up objects
    frozen, the collection by hand only walks what the jobs left behind (0.2 ms).
    """

    def __init__(self, every: int) -> None:
        gc.disable()
        gc.freeze()
        self._every = every
        self._done = 0

    def job_done(self) -> None:
        """Count a job; collect after every ``every``-th."""
        self._done += 1
        if self._done % self._every == 0:
            gc.collect()


def _serve(
    task: Callable[[Any], Any],
    jobs: Connection,
    answers: Connection,
    callers: tuple[Connection, ...],
    niceness: int,
) -> None:
    """Worker process: send back ``task(job)`` for each job received, until ``None`` or end of input.

    ``callers`` are the caller's ends of every worker's pipes, inherited by a fork: closed here, so that
    when the caller dies this worker's ``recv`` sees the end of input and its ``send`` a broken pipe.
    The collector runs every ``COLLECT_EVERY`` jobs only (``Collector``).
    """
    for conn in callers:
        conn.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller stops us; no traceback of our own on ^C
    if niceness:
        os.nice(niceness)
    collector = Collector(COLLECT_EVERY)
    try:
        while (job := jobs.recv()) is not None:
            answers.send(task(job))
            collector.job_done()
    except (EOFError, BrokenPipeError):
        pass  # the caller is gone


class Workers:
    """Worker processes fed one job at a time through pipes, answering in the order they were given.

    No thread in the caller: ``multiprocessing.Pool`` hands jobs out and takes answers in with two
    threads of its own, and with the caller holding the GIL to fold and parse they got it late, so the
    worker sat waiting for its next job (``stats`` on 1 M lines: worker busy 2.1 s of a 4.0 s run).
    """

    def __init__(self, task: Callable[[Any], Any], count: int, context: Context, niceness: int = 0) -> None:
        self._procs: list[multiprocessing.process.BaseProcess] = []
        self._jobs: list[Connection] = []
        self._answers: list[Connection] = []
        self._given: list[int] = []
        for _ in range(count):
            job_out, job_in = context.Pipe(duplex=False)
            answer_out, answer_in = context.Pipe(duplex=False)
            _widen(answer_in)
            callers = (*self._jobs, *self._answers, job_in, answer_out)
            args = (task, job_out, answer_in, callers, niceness)
            proc = context.Process(target=_serve, args=args, daemon=True)
            proc.start()
            job_out.close()
            answer_in.close()
            self._procs.append(proc)
            self._jobs.append(job_in)
            self._answers.append(answer_out)
            self._given.append(0)

    def give(self, job: object) -> int:
        """Queue ``job`` with the worker given fewest jobs not yet taken back; return its number."""
        w = min(range(len(self._procs)), key=self._given.__getitem__)
        self._jobs[w].send(job)
        self._given[w] += 1
        return w

    @property
    def hungry(self) -> bool:
        """True when some worker holds fewer than ``HELD`` jobs (being done, queued or not taken back)."""
        return min(self._given) < HELD

    def ready(self, w: int, timeout: float = 0.0) -> bool:
        """True when worker ``w``'s oldest answer can be taken without waiting (waiting up to ``timeout``)."""
        return self._answers[w].poll(timeout)

    def take(self, w: int) -> Any:
        """Worker ``w``'s answer to its oldest job, waiting for it."""
        answer = self._answers[w].recv()
        self._given[w] -= 1
        return answer

    def close(self) -> None:
        """Let the workers finish (each has answered all it was given) and wait for them."""
        for job_in in self._jobs:
            job_in.send(None)
        for proc in self._procs:
            proc.join()
        self._release()

    def kill(self) -> None:
        """Stop the workers now (the caller stopped reading)."""
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self._procs:
            proc.join()
        self._release()

    def _release(self) -> None:
        for conn in (*self._jobs, *self._answers):
            conn.close()
        self._procs.clear()


def _widen(conn: Connection) -> None:
    """Ask for a larger buffer on ``conn``'s pipe where the system allows it (Linux)."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is not None:
        # Under a lower limit the default buffer works too; the worker only waits more.
        with contextlib.suppress(OSError):
            fcntl.fcntl(conn.fileno(), setsize, _PIPE_BYTES)
