"""The virtualised logs view: one row per record, drawn line by line with the Line API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from agent_tui.model.record import Record
from agent_tui.schema import Level
from agent_tui.tui.rows import RowStyles, row_pieces

__all__ = ["LogView", "RowStore", "Rows"]


class Rows(Protocol):
    """The seqs shown, in display order (``agent_tui.model.views.filtered.FilteredView``)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> int: ...


class RowStore(Protocol):
    """What the view reads from the store (``agent_tui.model`` Store)."""

    def record(self, seq: int) -> Record: ...

    def attrs(self, seq: int) -> Mapping[str, Any]: ...

    def source_name(self, source: int) -> str: ...


class LogView(ScrollView, can_focus=True):
    """Shows ``rows`` (a sequence of seqs in display order); only visible lines are ever formatted."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "logview--cursor",
        "logview--error",
        "logview--critical",
        "logview--raw",
        "logview--time",
        "logview--agent",
        "logview--key",
        "logview--match",
        *(f"logview--level-{level.label}" for level in Level),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor(1)", "Down", show=False),
        Binding("k,up", "cursor(-1)", "Up", show=False),
        Binding("g,home", "top", "Top", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
    ]

    cursor: reactive[int] = reactive(-1, always_update=True, repaint=False)
    """Index of the selected row in ``rows`` (-1 when there are none)."""

    class CursorMoved(Message):
        """The selected row changed (by key, mouse or follow)."""

        def __init__(self, seq: int | None, by_user: bool) -> None:
            super().__init__()
            self.seq = seq
            """The selected record, or None when the view is empty."""
            self.by_user = by_user
            """True when the user moved it (which ends follow mode when moving off the end)."""

    def __init__(self, store: RowStore, rows: Rows, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.rows = rows
        self.row_count = 0
        """How many of ``rows`` are shown; frozen by the app while paused."""
        self.pinned = True
        """Whether follow may keep the selection on the last row; a user move off the end unpins it
        at once, so a redraw racing the move never yanks the cursor back."""
        self.is_match: Callable[[int], bool] | None = None
        """Marks rows matching the search (n/N) with a gutter sign."""
        self._cache: LRUCache[tuple[int, int, bool], Strip] = LRUCache(2048)
        self._styles: RowStyles | None = None

    def notify_style_update(self) -> None:
        """Theme changed: drop resolved styles and rendered lines."""
        super().notify_style_update()
        self._styles = None
        self._cache.clear()

    def _row_styles(self) -> RowStyles:
        if self._styles is None:
            style = self.get_component_rich_style
            self._styles = RowStyles(
                base=self.rich_style,
                time=style("logview--time", partial=True),
                agent=style("logview--agent", partial=True),
                key=style("logview--key", partial=True),
                raw=style("logview--raw", partial=True),
                levels={lvl: style(f"logview--level-{lvl.label}", partial=True) for lvl in Level},
                cursor=style("logview--cursor", partial=True),
                error=style("logview--error", partial=True),
                critical=style("logview--critical", partial=True),
            )
        return self._styles

    def set_rows(self, rows: Rows, count: int) -> None:
        """Point the view at a (new) sequence of seqs showing its first ``count`` rows."""
        if rows is not self.rows:
            self._cache.clear()
        self.rows = rows
        self.row_count = count
        self._set_virtual_height(count)
        if count == 0:
            self.cursor = -1
        elif self.cursor >= count:
            self.cursor = count - 1
        elif self.cursor < 0:
            self.cursor = 0
        self.refresh()

    def _set_virtual_height(self, count: int) -> None:
        new = Size(self.size.width, count)
        old = self.virtual_size
        if new == old:
            return
        height = self.size.height
        if not height or old.width != new.width or (old.height > height) != (count > height):
            self.virtual_size = new
            return
        # Growing below the fold changes no layout: skip the screen-wide relayout the reactive
        # would trigger on every frame while following, and just update scrollbar and lines.
        self.set_reactive(Widget.virtual_size, new)
        self._scroll_update(new)
        self.refresh()

    def _scroll_update(self, virtual_size: Size) -> None:
        super()._scroll_update(virtual_size)
        # Textual moves the thumb only when scroll_y changes: rows set before the first layout scroll
        # the view while it has no scrollbar yet, which then appeared with its thumb at the top.
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    def clear_cache(self) -> None:
        """Forget rendered lines (after a change of marks or data under the same seqs)."""
        self._cache.clear()
        self.refresh()

    @property
    def selected_seq(self) -> int | None:
        """The seq of the selected row."""
        if 0 <= self.cursor < self.row_count:
            return self.rows[self.cursor]
        return None

    def on_resize(self, event: events.Resize) -> None:
        """Rows are padded to the width, so a resize redraws them."""
        self._cache.clear()
        self.virtual_size = Size(event.size.width, self.row_count)

    def render_line(self, y: int) -> Strip:
        """Draw screen line ``y``: the row at ``scroll_y + y``, padded to the width."""
        index = self.scroll_offset.y + y
        width = self.size.width
        if index >= self.row_count or index < 0:
            return Strip.blank(width, self._row_styles().base)
        seq = self.rows[index]
        selected = index == self.cursor
        key = (seq, width, selected)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_row(seq, width, selected)
            self._cache[key] = strip
        return strip

    def _render_row(self, seq: int, width: int, selected: bool) -> Strip:
        styles = self._row_styles()
        record = self.store.record(seq)
        attrs: Mapping[str, Any] = {} if record.raw else self.store.attrs(seq)
        marker = "»" if self.is_match is not None and self.is_match(seq) else " "
        pieces = row_pieces(
            record,
            attrs,
            self.store.source_name(record.source),
            styles,
            marker=marker,
            agent_width=18 if width >= 110 else 12,
        )
        base = styles.base
        if selected:
            base = base + styles.cursor
        elif record.level >= Level.CRITICAL:
            base = base + styles.critical
        elif record.level >= Level.ERROR:
            base = base + styles.error
        # Segments straight from plain strings: no markup parsing and no Text layout per row.
        segments = [Segment(text, base if style is None else base + style) for text, style in pieces]
        return Strip(segments).crop_extend(0, width, base)

    def watch_cursor(self, old: int, new: int) -> None:
        """Redraw only the two rows whose selection changed."""
        for index in (old, new):
            if 0 <= index < self.row_count:
                self.refresh_lines(index - self.scroll_offset.y)

    def refresh_lines(self, y: int, count: int = 1) -> None:
        """Repaint screen lines (ignores lines outside the window)."""
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, count))

    def move_to(self, index: int, *, by_user: bool = True) -> None:
        """Select row ``index`` (clamped) and scroll it into view."""
        if self.row_count == 0:
            return
        index = max(0, min(index, self.row_count - 1))
        if by_user:
            self.pinned = index == self.row_count - 1
        self.cursor = index
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True, force=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True, force=True)
        self.post_message(self.CursorMoved(self.selected_seq, by_user))

    def stick_to_bottom(self) -> None:
        """Follow mode: select the last row and scroll to the end without reporting a user move."""
        self.pinned = True
        if self.row_count:
            self.cursor = self.row_count - 1
            self._scroll_end()
            self.post_message(self.CursorMoved(self.selected_seq, False))

    def _scroll_end(self) -> None:
        # force: right after the virtual size grows, layout has not yet enabled the scrollbar.
        self.scroll_to(y=max(0, self.row_count - self.size.height), animate=False, immediate=True, force=True)

    def action_cursor(self, delta: int) -> None:
        """Move the selection by ``delta`` rows."""
        self.move_to(self.cursor + delta)

    def action_top(self) -> None:
        """Select the first row."""
        self.move_to(0)

    def action_page(self, direction: int) -> None:
        """Move by one screen."""
        self.move_to(self.cursor + direction * max(1, self.size.height - 1))

    def on_click(self, event: events.Click) -> None:
        """Mouse works too: a click selects the row under the pointer."""
        self.move_to(self.scroll_offset.y + event.y)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        """Scrolling up with the wheel is the user looking back: leave follow mode."""
        self.pinned = False
        self.post_message(self.CursorMoved(self.selected_seq, True))
