"""Open any source spec (path, directory, ``-``, URL) and interleave several sources fairly."""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import stat
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from typing import cast

from agent_tui.sources.base import LineBatch, Source, SourceState, SourceStatus
from agent_tui.sources.directory import DirectorySource
from agent_tui.sources.file import FileSource
from agent_tui.sources.options import SourceError, SourceOptions
from agent_tui.sources.stdin import StdinSource

__all__ = ["REMOTE_SCHEMES", "SourceError", "SourceOptions", "merged", "open_source"]

REMOTE_SCHEMES = {
    "http": ("agent_tui.sources.http", "open_http"),
    "https": ("agent_tui.sources.http", "open_http"),
    "loki": ("agent_tui.sources.loki", "open_loki"),
    "lokis": ("agent_tui.sources.loki", "open_loki"),
    "ssh": ("agent_tui.sources.ssh", "open_ssh"),
}
"""URL scheme → (module, function) opened lazily so local use never imports aiohttp."""
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def open_source(spec: str, options: SourceOptions) -> Source:
    """Build the source a command-line spec names; nothing is read until its stream is iterated.

    Args:
        spec: A file or directory path, ``-`` for stdin, ``file://PATH``, or an
            ``http(s)://``, ``loki://`` or ``ssh://`` URL.
        options: Shared source settings.

    Returns:
        A :class:`~agent_tui.sources.base.Source`.

    Raises:
        SourceError: The path does not exist (and we are not following), the scheme is unknown, or the
            backend for the scheme is not available.
    """
    if spec == "-":
        return StdinSource(read_size=options.read_size)
    m = _SCHEME.match(spec)
    if m is not None and not os.path.exists(spec):
        scheme = m.group(1).lower()
        if scheme == "file":
            return _open_local(spec[len("file://") :], options, spec)
        return _open_remote(scheme, spec, options)
    return _open_local(spec, options, spec)


def _open_local(path: str, options: SourceOptions, spec: str) -> Source:
    if not path:
        raise SourceError(f"{spec!r}: empty path")
    if os.path.isdir(path):
        return DirectorySource(path, options, name=spec)
    if _is_stream(path):
        # A FIFO or /dev/fd/N from `agent-tui <(kubectl logs -f …)`: read it like stdin, never seek it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        stream = os.fdopen(fd, "rb", buffering=0)
        return StdinSource(stream, name=spec, read_size=options.read_size, owns_stream=True)
    if not os.path.exists(path) and not options.follow:
        raise SourceError(f"{spec}: no such file or directory")
    return FileSource(path, options, name=spec)


def _is_stream(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)


def _open_remote(scheme: str, spec: str, options: SourceOptions) -> Source:
    target = REMOTE_SCHEMES.get(scheme)
    if target is None:
        known = ", ".join(sorted({*REMOTE_SCHEMES, "file"}))
        raise SourceError(f"{spec}: unknown scheme {scheme!r} (supported: {known}, a path, or -)")
    module_name, func_name = target
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        reason = f"{scheme}:// sources are not available ({module_name} is missing)"
        raise SourceError(f"{spec}: {reason}") from exc
    opener = getattr(module, func_name, None)
    if opener is None:
        raise SourceError(f"{spec}: {module_name} does not provide {func_name}()")
    return cast(Callable[[str, SourceOptions], Source], opener)(spec, options)


async def _next(iterator: AsyncIterator[LineBatch | SourceStatus]) -> LineBatch | SourceStatus:
    return await anext(iterator)


async def merged(sources: Sequence[Source]) -> AsyncGenerator[LineBatch | SourceStatus, None]:
    """Interleave the streams of ``sources`` as items arrive, one item per ready source per round.

    Each source has at most one read outstanding, so a fast source cannot starve a slow one. A source
    failing with an ``OSError`` becomes an ERROR status and the others go on. The merged stream owns the
    sources: when it ends or the consumer stops iterating, every source is closed.

    Args:
        sources: Sources whose ``stream()`` has not been called yet.

    Yields:
        Batches and status changes, in arrival order per source.
    """
    iterators = [source.stream() for source in sources]
    pending: dict[asyncio.Task[LineBatch | SourceStatus], int] = {}
    try:
        for index, iterator in enumerate(iterators):
            pending[asyncio.ensure_future(_next(iterator))] = index
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=pending.__getitem__):
                index = pending.pop(task)
                try:
                    item = task.result()
                except StopAsyncIteration:
                    continue
                except OSError as exc:
                    yield SourceStatus(sources[index].name, SourceState.ERROR, str(exc))
                    continue
                yield item
                pending[asyncio.ensure_future(_next(iterators[index]))] = index
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for source in sources:
            await source.close()
