"""Pump sources in workers into the inbox and wake the UI with coalesced messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from textual.message import Message

from agent_tui.sources.base import LineBatch, Source, SourceState, SourceStatus
from agent_tui.tui.inbox import BatchInbox
from agent_tui.tui.messages import LinesArrived, SourceChanged

__all__ = ["pump_source"]


async def pump_source(source: Source, inbox: BatchInbox, post: Callable[[Message], object]) -> None:
    """Read ``source`` until it ends, handing batches to ``inbox`` and announcing them with ``post``.

    Runs as an async worker on the app's loop; source I/O awaits, so the UI keeps drawing. A crash in
    the source becomes an ``error`` state in the stats bar instead of taking the app down. Batches
    read after the source announced ``following`` are marked ``live``.
    """
    following = False
    try:
        async for item in source.stream():
            if isinstance(item, LineBatch):
                if item.lines:
                    # Marked here, in stream order: the status message itself may overtake queued history.
                    await inbox.put(replace(item, live=True) if following else item)
                    post(LinesArrived())
            elif isinstance(item, SourceStatus):
                following = following or item.state is SourceState.FOLLOWING
                post(SourceChanged(item))
    except Exception as exc:  # a broken source must not kill the UI; the reason is shown instead
        post(SourceChanged(SourceStatus(source.name, SourceState.ERROR, f"{type(exc).__name__}: {exc}")))
    finally:
        await source.close()
