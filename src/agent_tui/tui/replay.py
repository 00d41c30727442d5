"""``agent-tui replay`` in the TUI: a source playing recorded lines; keys pause, step and change speed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Final

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from agent_tui.model.replay import Cue, Player, batches
from agent_tui.model.session import LogModel
from agent_tui.model.traces.analysis import Thresholds
from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.tui.app import AgentTuiApp
from agent_tui.tui.keys import Key
from agent_tui.tui.screens.help import HelpScreen
from agent_tui.tui.themes import choose_theme

__all__ = ["REPLAY_KEYS", "ReplayApp", "ReplaySource", "make_replay_app"]

REPLAY_KEYS: Final = (
    Key("P", "P", "replay_pause", "replay: pause / resume"),
    Key("full_stop", ".", "replay_step", "replay: step one record"),
    Key("plus", "+", "replay_speed(2.0)", "replay: twice as fast"),
    Key("minus", "-", "replay_speed(0.5)", "replay: half as fast"),
)


class ReplaySource:
    """A Source whose lines come from a ``Player``: each batch holds what became due together."""

    def __init__(self, player: Player, name: str = "replay") -> None:
        self.name = name
        self.player = player
        self._queue: asyncio.Queue[Cue | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _play(self) -> None:
        try:
            await self.player.play(self._queue.put)
        finally:
            self._queue.put_nowait(None)

    async def stream(self) -> AsyncIterator[LineBatch | SourceStatus]:
        """Play the cues; yield them as batches as they become due, then say the replay is done."""
        self._task = asyncio.create_task(self._play())
        done = False
        while not done:
            due = [await self._queue.get()]
            while not self._queue.empty():
                due.append(self._queue.get_nowait())
            if due[-1] is None:
                done = True
            for run in batches(c for c in due if c is not None):
                yield LineBatch(source=run[0].source, lines=[c.line for c in run])
        yield SourceStatus(self.name, SourceState.DONE, f"replay finished ({self.player.played} lines)")

    async def close(self) -> None:
        """Stop playing."""
        if self._task is not None and not self._task.done():
            self._task.cancel()


class ReplayApp(AgentTuiApp):
    """The app driven by a replay: the stats bar says REPLAY ×speed; P, ., + and - steer it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *AgentTuiApp.BINDINGS,
        *(Binding(k.keys, k.action, k.description, show=False) for k in REPLAY_KEYS),
    ]

    def __init__(self, *args: Any, player: Player, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.player = player
        self.replay_label = player.label

    def _steered(self, note: str) -> None:
        self.replay_label = self.player.label
        self.notify(note, timeout=1.5, markup=False)
        self.refresh_stats()

    def action_help(self) -> None:
        """Every key, the replay's included."""
        self.push_screen(HelpScreen(REPLAY_KEYS))

    def action_replay_pause(self) -> None:
        """Pause or resume the replay (the clock stops with it)."""
        paused = self.player.toggle_pause()
        self._steered("replay paused (P resumes, . steps)" if paused else "replay resumed")

    def action_replay_step(self) -> None:
        """Play the next record now."""
        self.player.step()
        self._steered("stepped one record")

    def action_replay_speed(self, factor: float) -> None:
        """Change the replay speed by ``factor``."""
        self.player.set_speed(self.player.clock.speed * factor)
        self._steered(self.player.label)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The app's commands plus the replay's."""
        yield from super().get_system_commands(screen)
        for key in REPLAY_KEYS:
            title = f"{key.description}  ({key.label})"
            yield SystemCommand(title, key.description, self._runner(key.action))


def make_replay_app(
    player: Player,
    *,
    theme: str | None = None,
    thresholds: Thresholds | None = None,
    environ: Mapping[str, str] | None = None,
    export_dir: Path | None = None,
) -> ReplayApp:
    """The app on a model whose clock is the replay's: windows, rates, toasts and flags run on it."""
    model = LogModel(clock=player.clock, following=True, thresholds=thresholds)
    return ReplayApp(
        model,
        [ReplaySource(player)],
        clock=player.clock,
        follow=True,
        theme=choose_theme(theme, environ),
        export_dir=export_dir,
        player=player,
    )
