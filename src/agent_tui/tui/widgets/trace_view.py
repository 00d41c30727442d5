"""The traces view: a Tree of trace → span → event that updates live without losing expansion or selection."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import ClassVar, Final, Protocol

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from agent_tui.model.record import Record
from agent_tui.model.traces.analysis import CriticalPath, critical_path
from agent_tui.model.traces.forest import Trace
from agent_tui.model.traces.spans import Span
from agent_tui.schema import Level
from agent_tui.tui.rows import BADGES, format_time
from agent_tui.tui.sanitize import safe_text
from agent_tui.tui.widgets.stats_bar import FLAG_BADGES

__all__ = ["NodeRef", "TraceView", "trace_label"]

MAX_TRACES: Final = 2000
MAX_EVENTS: Final = 300
_STATUS: Final = {
    "ok": ("✔", "OK  "),
    "error": ("✖", "ERR "),
    "critical": ("‼", "CRIT"),
    "running": ("⟳", "RUN "),
}


@dataclass(frozen=True, slots=True)
class NodeRef:
    """What a tree node stands for: a trace, a span in it, or one record (event)."""

    kind: str
    """``trace``, ``span`` or ``event``."""
    trace_id: str
    span_id: str | None = None
    seq: int | None = None


FlagNames = Callable[[str], Sequence[str]]
"""Trace id → the names of its flags (``FlagTracker.names``)."""


def _no_flags(trace_id: str) -> Sequence[str]:
    return ()


class Forest(Protocol):
    """What the view reads from the model's TraceForest."""

    def traces(self) -> list[Trace]: ...

    def get(self, trace_id: str) -> Trace | None: ...


def _duration(ms: float | None) -> str:
    if ms is None:
        return "…"
    if ms < 1000:
        return f"{ms:.0f}ms"
    return f"{ms / 1000:.1f}s"


def _status_style(status: str) -> str:
    return {"error": "bold red", "critical": "bold magenta", "running": "yellow"}.get(status, "green")


def trace_label(trace: Trace, flags: Sequence[str] = ()) -> Text:
    """One line per trace: status, flag badges, op, duration, errors, sums, tokens, cost, id (plain text)."""
    icon, word = _STATUS.get(trace.status, ("?", trace.status))
    text = Text(no_wrap=True)
    text.append(f"{icon} {word} ", _status_style(trace.status))
    for name in flags:
        text.append(f"⚑{FLAG_BADGES.get(name, name)}", "bold black on yellow")
        text.append(" ")
    text.append(safe_text(trace.op or "?"), "bold")
    text.append(f"  {_duration(trace.duration_ms)}")
    if trace.error_count:
        text.append(f"  errors {trace.error_count}", "red")
    text.append(f"  recs {trace.record_count}")
    for label, value in (("bet", trace.amount_usdc), ("payout", trace.payout_usdc)):
        if value:
            text.append(f"  {label} ${value:,.2f}")
    if trace.tokens:
        text.append(f"  tok {trace.tokens:,}")
    if trace.cost_usd:
        text.append(f"  cost ${trace.cost_usd:.4f}")
    text.append(f"  {safe_text(trace.trace_id)}", "dim")
    return text


def span_label(span: Span, path: CriticalPath | None = None) -> Text:
    """A span: status icon, ◆ when on the critical path, op, duration, self time and its error."""
    icon, _word = _STATUS.get(span.status, ("·", ""))
    text = Text(no_wrap=True)
    text.append(f"{icon} ", _status_style(span.status))
    if path is not None and span.span_id in path.members:
        text.append("◆ ", "bold cyan")
    text.append(safe_text(span.op or span.span_id or "?"), "bold")
    end = path.ends.get(span.span_id, span.end) if path is not None else span.end
    text.append(f"  {_duration((end - span.start) * 1000)}")
    if path is not None and span.span_id in path.running:
        text.append(" so far", "yellow")
    if path is not None:
        text.append(f"  self {_duration(path.self_ms.get(span.span_id, 0.0))}", "dim")
    if span.error is not None:
        text.append(f"  {safe_text(span.error.type)}: {safe_text(span.error.message)[:80]}", "red")
    return text


def event_label(record: Record) -> Text:
    """A record inside a span: time, level badge, event."""
    text = Text(no_wrap=True)
    text.append(format_time(record.ts), "dim")
    text.append(f" {BADGES.get(record.level, '????')} ", "red" if record.level >= 40 else "")
    text.append(safe_text(record.event))
    return text


def walk_spans(spans: Iterable[Span]) -> Iterator[Span]:
    """Every span under ``spans``, depth first."""
    for span in spans:
        yield span
        yield from walk_spans(span.children)


class TraceView(Tree[NodeRef]):
    """Traces newest first; children are built when a trace is expanded and rebuilt as it changes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]

    def __init__(
        self,
        forest: Forest,
        record_of: Callable[[int], Record],
        *,
        flags_of: FlagNames = _no_flags,
        now: Callable[[], float] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(Text("traces"), id=id)
        self.show_root = False
        self.forest = forest
        self.record_of = record_of
        self.flags_of = flags_of
        self.now = now
        """When running spans end (None: at their last record)."""
        self.critical_only = False
        """Fold every span that is not on its trace's critical path (key ``C``)."""
        self.nodes: dict[str, TreeNode[NodeRef]] = {}
        """trace_id → its node."""
        self.auto_expand = False
        self.min_level: Level | None = None
        """Only traces with a record at this level or above are listed (keys ``1``–``5``)."""

    def set_min_level(self, level: Level | None) -> None:
        """List only traces reaching ``level``: rebuilt from the newest, the cursor back at the top."""
        if level == self.min_level:
            return
        self.min_level = level
        self.clear()
        self.nodes.clear()
        self.sync(None)

    def _shown(self, trace: Trace) -> bool:
        return self.min_level is None or trace.max_level >= self.min_level

    def rebind(
        self, forest: Forest, record_of: Callable[[int], Record], flags_of: FlagNames = _no_flags
    ) -> None:
        """Show another forest (the full index replacing a preview): the tree is rebuilt from it.

        Hidden, it is only emptied: every way of showing it syncs it first, and building the newest
        traces' rows here would hold up the keys for a few hundred milliseconds on a big index.
        """
        self.forest = forest
        self.record_of = record_of
        self.flags_of = flags_of
        self.clear()
        self.nodes.clear()
        if self.display:
            self.sync(None)

    def sync(self, touched: Iterable[str] | None = None) -> None:
        """Add new traces at the top and refresh changed ones; None refreshes the newest MAX_TRACES.

        The selected node keeps its row on screen, so a trace being read does not slide away as
        newer traces arrive above it (at the very top the view shows the newest, like follow).
        """
        anchor = self._screen_anchor()
        if touched is None:
            traces = list(islice(filter(self._shown, self.forest.traces()), MAX_TRACES))
        else:
            found = (self.forest.get(trace_id) for trace_id in touched)
            shown = (t for t in found if t is not None and self._shown(t))
            traces = sorted(shown, key=lambda t: t.start, reverse=True)
        new = [t for t in traces if t.trace_id not in self.nodes]
        for trace in reversed(new[:MAX_TRACES]):
            first = self.root.children[0] if self.root.children else None
            node = self.root.add(self._label(trace), NodeRef("trace", trace.trace_id), before=first)
            self.nodes[trace.trace_id] = node
        for trace in traces:
            existing = self.nodes.get(trace.trace_id)
            if existing is None:
                continue
            existing.set_label(self._label(trace))
            if existing.is_expanded:
                self._rebuild(existing, trace)
        self._trim()
        if anchor is not None:
            self._restore(anchor)

    def _label(self, trace: Trace) -> Text:
        return trace_label(trace, self.flags_of(trace.trace_id))

    def toggle_critical(self) -> bool:
        """Fold (or unfold) the spans off the critical path in every open trace; return the new state."""
        self.critical_only = not self.critical_only
        for trace_id, node in self.nodes.items():
            trace = self.forest.get(trace_id)
            if trace is not None and node.children:
                self._rebuild(node, trace)
        return self.critical_only

    def _screen_anchor(self) -> tuple[NodeRef, int] | None:
        """The selected node and its row on screen, unless the cursor is on the newest trace at the top."""
        self.get_node_at_line(0)
        node = self.cursor_node
        if node is None or node.data is None or (self.cursor_line <= 0 and self.scroll_y <= 0):
            return None
        return node.data, node.line - round(self.scroll_y)

    def _restore(self, anchor: tuple[NodeRef, int]) -> None:
        ref, row = anchor
        node = self.find(ref)
        self.get_node_at_line(0)
        if node is None or node.line < 0:
            return
        self.cursor_line = node.line
        self.scroll_to(y=max(0, node.line - row), animate=False, immediate=True, force=True)

    def _trim(self) -> None:
        while len(self.root.children) > MAX_TRACES:
            oldest = self.root.children[-1]
            if oldest.data is not None:
                self.nodes.pop(oldest.data.trace_id, None)
            oldest.remove()

    def _rebuild(self, node: TreeNode[NodeRef], trace: Trace) -> None:
        expanded = {n.data for n in self._descendants(node) if n.is_expanded and n.data is not None}
        cursor = self.cursor_node
        keep = cursor.data if cursor is not None and cursor.data is not None else None
        inside = keep is not None and keep.trace_id == trace.trace_id and keep.kind != "trace"
        node.remove_children()
        path = critical_path(trace.roots, self.now() if self.now is not None else None)
        for span in trace.roots:
            if not self.critical_only or span.span_id in path.members:
                self._add_span(node, (trace.trace_id, path), span, expanded)
        if inside and keep is not None:
            # Put the cursor back without scrolling; sync() restores the scroll position.
            kept = self.find(keep)
            self.get_node_at_line(0)
            if kept is not None and kept.line >= 0:
                self.cursor_line = kept.line

    def _descendants(self, node: TreeNode[NodeRef]) -> Iterator[TreeNode[NodeRef]]:
        for child in node.children:
            yield child
            yield from self._descendants(child)

    def _add_span(
        self, parent: TreeNode[NodeRef], where: tuple[str, CriticalPath], span: Span, expanded: set[NodeRef]
    ) -> None:
        trace_id, path = where
        ref = NodeRef("span", trace_id, span.span_id)
        open_ = ref in expanded or span.error is not None or not expanded or self.critical_only
        node = parent.add(span_label(span, path), ref, expand=open_)
        for child in span.children:
            if not self.critical_only or child.span_id in path.members:
                self._add_span(node, where, child, expanded)
        events = list(span.events)
        for seq in events[:MAX_EVENTS]:
            node.add_leaf(event_label(self.record_of(seq)), NodeRef("event", trace_id, span.span_id, seq))
        if len(events) > MAX_EVENTS:
            node.add_leaf(Text(f"… {len(events) - MAX_EVENTS} more records"), ref)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeRef]) -> None:
        """Build a trace's spans the first time it is opened."""
        ref = event.node.data
        if ref is not None and ref.kind == "trace" and not event.node.children:
            trace = self.forest.get(ref.trace_id)
            if trace is not None:
                self._rebuild(event.node, trace)

    def find(self, ref: NodeRef) -> TreeNode[NodeRef] | None:
        """The node for ``ref`` (trace, span or event), building the trace's children if needed."""
        trace_node = self.nodes.get(ref.trace_id)
        if trace_node is None:
            trace = self.forest.get(ref.trace_id)
            if trace is None:
                return None
            first = self.root.children[0] if self.root.children else None
            trace_node = self.root.add(self._label(trace), NodeRef("trace", ref.trace_id), before=first)
            self.nodes[ref.trace_id] = trace_node
        if ref.kind == "trace":
            return trace_node
        if not trace_node.children:
            trace = self.forest.get(ref.trace_id)
            if trace is not None:
                self._rebuild(trace_node, trace)
        for node in self._descendants(trace_node):
            data = node.data
            if data is None:
                continue
            if ref.kind == "event" and data.kind == "event" and data.seq == ref.seq:
                return node
            if ref.kind == "span" and data.kind == "span" and data.span_id == ref.span_id:
                return node
        return None

    def select_ref(self, ref: NodeRef) -> bool:
        """Expand the path to ``ref``, move the cursor onto it and scroll it into view."""
        node = self.find(ref)
        if node is None:
            return False
        ancestor = node.parent
        while ancestor is not None:
            ancestor.expand()
            ancestor = ancestor.parent
        # Reading a line forces the tree to re-number its lines after the expansions above.
        self.get_node_at_line(0)
        self.move_cursor(node)
        trace_node = self.nodes.get(ref.trace_id)
        if trace_node is not None:
            # After layout (the view may have just been switched in): show the path from the trace row.
            self.call_after_refresh(self._reveal, trace_node, node)
        return True

    def _reveal(self, top: TreeNode[NodeRef], node: TreeNode[NodeRef]) -> None:
        if 0 <= node.line - top.line < self.size.height:
            self.scroll_to(y=top.line, animate=False, immediate=True, force=True)
        else:
            self.scroll_to_node(node, animate=False)
