"""The stats bar: rolling per-level counts, rate sparkline, follow state, sources, raw/evicted, filter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Final

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from agent_tui.schema import Level
from agent_tui.tui.sanitize import safe_text

__all__ = ["DeadLetterSummary", "StatsBar", "StatsSnapshot", "human_count", "sparkline"]

_BLOCKS: Final = "▁▂▃▄▅▆▇█"
_SHOWN: Final = (Level.CRITICAL, Level.ERROR, Level.WARNING, Level.INFO)
_LIVE_STATES: Final = frozenset({"following", "connected", "reconnecting", "waiting"})
WINDOWS: Final = (("1m", 60.0), ("5m", 300.0), ("15m", 900.0), ("all", None))
FLAG_BADGES: Final = {
    "retry_storm": "storm",
    "agent_loop": "loop",
    "slow": "slow",
    "costly": "costly",
    "stuck": "stuck",
}
"""The short word each flag is shown as (trace rows, stats bar)."""


@dataclass(frozen=True, slots=True)
class DeadLetterSummary:
    """What the stats bar says about the dead-letter queues."""

    unresolved: int = 0
    dbs: tuple[str, ...] = ()
    """File names of the databases watched."""
    problems: tuple[str, ...] = ()
    """One line per database that cannot be read right now."""


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """Everything the bar shows, computed by the app from the model at refresh time."""

    counts: Mapping[str, Mapping[Level, int]] = field(default_factory=dict)
    """Per window label (``1m``, ``5m``, ``15m``, ``all``) the count of each level."""
    rate: Sequence[int] = ()
    """Records per second, oldest first."""
    following: bool = False
    paused: bool = False
    sources: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Source name → (state, reason)."""
    raw: int = 0
    evicted: int = 0
    shown: int = 0
    total: int = 0
    filter_text: str = ""
    min_level: Level | None = None
    behind: int = 0
    """Lines received but not yet ingested (the view is catching up)."""
    live: bool = False
    """Rates are counted by arrival time, so the newest second of ``rate`` is still filling up."""
    dead_letters: DeadLetterSummary | None = None
    """Unresolved dead letters and their databases; None when no database is watched."""
    loading: str = ""
    """Progress of the history being indexed in the background (empty once it is complete)."""
    flags: Mapping[str, int] = field(default_factory=dict)
    """Traces carrying each flag (``retry_storm`` …)."""
    replay: str = ""
    """``REPLAY ×10`` while replaying (the clock is the replay's), else empty."""


def sparkline(values: Sequence[int]) -> str:
    """Eight-level block sparkline scaled to the largest value."""
    top = max(values, default=0)
    if top <= 0:
        return _BLOCKS[0] * len(values)
    return "".join(_BLOCKS[min(7, (v * 7 + top - 1) // top)] for v in values)


def human_count(n: int) -> str:
    """``n`` in at most five characters: ``9999``, ``12.3k``, ``123k``, ``1.2M``."""
    if n < 10_000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k" if n < 100_000 else f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


class StatsBar(Widget):
    """Two lines at the top of the screen; renders a :class:`StatsSnapshot`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "statsbar--following",
        "statsbar--paused",
        "statsbar--error",
        "statsbar--filter",
        "statsbar--loading",
        *(f"statsbar--level-{level.label}" for level in _SHOWN),
    }

    snapshot: reactive[StatsSnapshot] = reactive(StatsSnapshot, layout=False)
    """What to draw; the app replaces it at most a few times a second."""

    def render(self) -> Text:
        """Build both lines from plain strings, each fitted to the width so neither wraps."""
        width = max(self.size.width, 1)
        lines = [self._state_line(width), self._counts_line(width)]
        for text in lines:
            text.truncate(width, overflow="ellipsis")
        return Text("\n", no_wrap=True).join(lines)

    def _state_line(self, width: int) -> Text:
        """Follow state, filter, rate, rows, raw/evicted and sources; a failing source's reason last.

        When the line is too wide, zero raw/evicted counts go first, then the sparkline, so a
        source's error stays readable at 80 columns.
        """
        snap = self.snapshot
        style = self.get_component_rich_style
        # A second still filling up would read as a sudden drop (0/s while lines stream in).
        rate = list(snap.rate[:-1] if snap.live else snap.rate)
        for spark, zeros in ((16, True), (16, False), (8, False), (0, False)):
            text = Text(no_wrap=True)
            if snap.replay:
                text.append(f" ⏵ {snap.replay} ", style("statsbar--following"))
            elif snap.paused:
                text.append(" ❚❚ PAUSED ", style("statsbar--paused"))
            elif snap.following:
                text.append(" ▶ FOLLOW ", style("statsbar--following"))
            elif self._live(snap):
                # Lines still arrive below; "static" would read as "the stream has stopped".
                text.append(" ■ FOLLOW OFF (f) ")
            else:
                text.append(" ■ STATIC ")
            if snap.min_level is not None and snap.min_level > Level.TRACE:
                text.append(f" ≥{snap.min_level.label}")
            if snap.filter_text:
                text.append(" filter: ")
                text.append(safe_text(snap.filter_text), style("statsbar--filter"))
            if spark:
                text.append(f" {sparkline(rate[-spark:])}")
            text.append(f" {human_count(rate[-1] if rate else 0)}/s")
            self._append_rows(text, snap)
            if zeros or snap.raw:
                text.append(f"  raw {human_count(snap.raw)}")
            if zeros or snap.evicted:
                text.append(f"{' ' if zeros else '  '}evicted {human_count(snap.evicted)}")
            self._append_sources(text, snap)
            if text.cell_len <= width:
                break
        return text

    def _append_rows(self, text: Text, snap: StatsSnapshot) -> None:
        """Rows shown of all, lines still queued, and the progress of history being indexed."""
        text.append(f"  {human_count(snap.shown)}/{human_count(snap.total)} shown")
        if snap.behind:
            text.append(f" (+{human_count(snap.behind)} pending)")
        if snap.loading:
            text.append(f"  {snap.loading}", self.get_component_rich_style("statsbar--loading"))

    @staticmethod
    def _live(snap: StatsSnapshot) -> bool:
        """Some source is still delivering (or trying to)."""
        return any(state in _LIVE_STATES for state, _reason in snap.sources.values())

    def _counts_line(self, width: int) -> Text:
        """Per-level counts per window; narrower screens get a short label, then lose the 15m window."""
        snap = self.snapshot
        style = self.get_component_rich_style
        for label_text, skip in ((" crit/err/warn/info ", ""), (" c/e/w/i", ""), (" c/e/w/i", "15m")):
            text = Text(no_wrap=True)
            text.append(label_text)
            for label, _window in WINDOWS:
                if label == skip:
                    continue
                counts = snap.counts.get(label, {})
                text.append(f" {label} ")
                for i, level in enumerate(_SHOWN):
                    if i:
                        text.append("/")
                    text.append(human_count(counts.get(level, 0)), style(f"statsbar--level-{level.label}"))
            self._append_flags(text, snap, short=bool(skip))
            self._append_dead_letters(text, snap.dead_letters, short=bool(skip))
            if text.cell_len <= width:
                break
        return text

    def _append_dead_letters(self, text: Text, dlq: DeadLetterSummary | None, *, short: bool) -> None:
        """``DLQ 3 open (dlq.db)``: the unresolved count, red when there are any, and which databases."""
        if dlq is None:
            return
        style = self.get_component_rich_style("statsbar--error") if dlq.unresolved or dlq.problems else ""
        text.append("  DLQ ")
        text.append(f"{human_count(dlq.unresolved)} open", style)
        if not short and dlq.dbs:
            text.append(f" ({safe_text(', '.join(dlq.dbs))})")
        if dlq.problems:
            text.append(" ⚠ unreadable", style)

    def _append_flags(self, text: Text, snap: StatsSnapshot, *, short: bool) -> None:
        """Traces per raised flag (``⚑ storm 3 loop 1``); nothing when no trace is flagged."""
        raised = [(FLAG_BADGES.get(name, name), n) for name, n in snap.flags.items() if n]
        if not raised:
            return
        text.append("  ⚑", self.get_component_rich_style("statsbar--error"))
        for badge, n in raised:
            text.append(f" {badge}{'' if short else ' '}{human_count(n)}")

    def _append_sources(self, text: Text, snap: StatsSnapshot) -> None:
        states: dict[str, int] = {}
        for state, _reason in snap.sources.values():
            states[state] = states.get(state, 0) + 1
        if not states:
            return
        summary = ",".join(f"{n} {state}" for state, n in sorted(states.items()))
        text.append(f"  src {summary}")
        for name, (state, reason) in snap.sources.items():
            if state in ("error", "reconnecting"):
                # Source reasons usually start with the path already; don't say it twice.
                shown = reason if reason.startswith(name) else f"{name}: {reason}"
                text.append(f" {safe_text(shown)}", self.get_component_rich_style("statsbar--error"))
                break
