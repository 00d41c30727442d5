"""A new critical record gets a toast and the terminal bell, once, whatever the filter shows."""

from __future__ import annotations

from collections.abc import Iterable

from agent_tui.tui.sanitize import safe_text
from agent_tui.tui.viewstate import ViewActions

__all__ = ["CriticalAlerts"]


class CriticalAlerts(ViewActions):
    """Alerts for critical records: live ones always, ones read from history only when recent."""

    alerted: set[int]
    """Seqs already alerted for (each record alerts once)."""
    started: float
    """When the app started (clock time): history older than a minute before it stays quiet."""

    def _alert(self, criticals: Iterable[tuple[int, bool]]) -> None:
        """Toast and ring once per new critical record, whatever the current filter shows.

        ``criticals`` pairs each record with whether it arrived while following (then it alerts
        whatever its timestamp); one read from history alerts only if it is under a minute old.
        """
        store = self.model.store
        new = []
        for seq, live in criticals:
            if seq in self.alerted:
                continue
            record = store.record(seq)
            if live or record.ts >= self.started - 60:
                self.alerted.add(seq)
                new.append(record)
        for record in new[:3]:
            error = f" — {record.error.type}: {record.error.message}" if record.error else ""
            self.notify(
                safe_text(f"{record.event}{error}"),
                title="CRITICAL",
                severity="error",
                timeout=8,
                markup=False,
            )
        if len(new) > 3:
            self.notify(f"+{len(new) - 3} more critical records", severity="error", markup=False)
        if new:
            self.bell()
