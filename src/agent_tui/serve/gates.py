"""Server-side ``filter`` and ``since``: which lines of a source a client receives."""

from __future__ import annotations

from agent_tui.serve.session import GateBuilder

__all__ = ["default_gate_builder"]


def default_gate_builder() -> GateBuilder | None:
    """The gate builder backed by the filter language and the line parser (None while they are absent)."""
    return None
