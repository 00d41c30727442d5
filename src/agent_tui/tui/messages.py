"""Typed messages that carry background work to the UI thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from agent_tui.sources.base import SourceStatus

if TYPE_CHECKING:
    from agent_tui.model.deadletters.reader import DeadLetter
    from agent_tui.tui.widgets.stats_bar import DeadLetterSummary

__all__ = ["DeadLetterOpened", "DeadLettersChanged", "LinesArrived", "SourceChanged"]


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


class DeadLettersChanged(Message):
    """The dead-letter queues changed: a new summary for the stats bar."""

    def __init__(self, summary: DeadLetterSummary) -> None:
        super().__init__()
        self.summary = summary
        """Unresolved count, databases and problems."""


class DeadLetterOpened(Message):
    """The user chose a dead letter (``enter`` in the dead-letters view)."""

    def __init__(self, entry: DeadLetter) -> None:
        super().__init__()
        self.entry = entry
        """The dead letter whose trace to open."""
