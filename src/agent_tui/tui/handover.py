"""The app's side of opening big files tail-first: count history in, then switch to the full index."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

from agent_tui.schema import Level
from agent_tui.tui.sanitize import safe_text
from agent_tui.tui.viewstate import ViewActions
from agent_tui.tui.widgets.stats_bar import WINDOWS, human_count

if TYPE_CHECKING:
    from agent_tui.tui.tailfirst import HistoryMerge

__all__ = ["HistoryHandover"]


class HistoryHandover(ViewActions):
    """While history loads its counts join the bar's; once indexed, the full model replaces the tail."""

    merge: HistoryMerge | None
    """Big files opened tail-first: their full index, built in the background (None once switched)."""
    alerted: set[int]
    _touched: set[str]
    _dirty: bool

    def _flag_names(self, trace_id: str) -> list[str]:
        """Provided by the app: the flags of a trace in the current model."""
        raise NotImplementedError

    def history_counts(
        self, counts: dict[str, Mapping[Level, int]]
    ) -> tuple[dict[str, Mapping[Level, int]], str]:
        """The bar's counts per window with history's share added, and the loading progress line."""
        merge = self.merge
        if merge is None:
            return counts, ""
        for label, window in WINDOWS:
            mine, theirs = counts[label], merge.counts(window)
            counts[label] = {lv: mine.get(lv, 0) + theirs.get(lv, 0) for lv in {*mine, *theirs}}
        fraction, records = merge.progress()
        return counts, f"indexing history {int(fraction * 100)}% · {human_count(records)} lines"

    def _switch_to_full(self, merge: HistoryMerge) -> None:
        """History is indexed: show the full model in place of the tail, keeping selection and view state."""
        self.merge = None
        old, full = self.model, merge.full
        logs = self.logs
        selected = logs.selected_seq
        last = self.view[logs.row_count - 1] if logs.row_count else None
        self.model = full
        self.view = merge.view_for(self.view.filter, self.view.min_level)
        logs.store = full.store
        self.traces_view.rebind(full.traces, full.store.record, self._flag_names)
        self.alerted = {seq + merge.shift for seq in self.alerted}
        self._touched.clear()
        if self.search_target is not None:
            self.search = logs.is_match = self.view_predicate(self.search_target)
        count = len(self.view)
        at = self.view.index_of(last + merge.shift) if self.paused and last is not None else None
        logs.set_rows(self.view, count if at is None else at + 1)
        index = self.view.index_of(selected + merge.shift) if selected is not None else None
        if index is not None and not (logs.pinned and (self.follow_mode or not self.user_moved)):
            logs.move_to(index, by_user=False)
        old.close()
        merge.settle()
        if merge.error:
            self.notify(safe_text(merge.error), title="history", severity="warning", markup=False)
        self._dirty = True
        self.sync_rows()

    async def _hold_history(self) -> None:
        """Runs while the app does: on exit, the history loads stop and their worker processes end."""
        try:
            await asyncio.Event().wait()
        finally:
            if self.merge is not None:
                self.merge.cancel()
