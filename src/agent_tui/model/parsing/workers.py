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

__all__ = ["Workers"]

_PIPE_BYTES = 1 << 20
"""Pipe buffer asked for (Linux's default limit for a user): a worker's answer for a 1 MiB piece is
about as large, so it can finish sending and start its next piece before the caller reads it."""
HELD = 2
"""Jobs a worker is given at most (one being worked on, one queued): answers never pile up."""
COLLECT_EVERY = 8
"""Jobs a worker does between two collections of its own (the collector is off in between)."""


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

    The cyclic collector is off while a job runs: a parse allocates a few tuples per line and no cycles,
    and the collections its allocations set off took 0.45 us of a 2.65 us line (1 M lines in the TUI's
    forkserver workers; a ``stats`` worker forked from its caller had it off already). What is alive
    at the start is frozen, so the collection every ``COLLECT_EVERY`` jobs only walks what jobs left
    behind (0.2 ms).
    """
    for conn in callers:
        conn.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller stops us; no traceback of our own on ^C
    if niceness:
        os.nice(niceness)
    gc.disable()
    gc.freeze()
    done = 0
    try:
        while (job := jobs.recv()) is not None:
            answers.send(task(job))
            done += 1
            if done % COLLECT_EVERY == 0:
                gc.collect()
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
