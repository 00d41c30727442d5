"""Typed messages that carry background work to the UI thread."""

from __future__ import annotations

from textual.message import Message

from agent_tui.sources.base import SourceStatus

__all__ = ["LinesArrived", "SourceChanged"]


class LinesArrived(Message):
    """Batches are waiting in the inbox; one pending message stands for any number of batches."""

    def can_replace(self, message: Message) -> bool:
        """Coalesce: a flood of arrivals is one wake-up for the drain."""
        return isinstance(message, LinesArrived)


class SourceChanged(Message):
    """A source changed state (reading, following, reconnecting, error, done)."""

    def __init__(self, status: SourceStatus) -> None:
        super().__init__()
        self.status = status
        """The new state of the source and why."""
