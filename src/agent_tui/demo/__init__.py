"""A simulated agent fleet (betting, trading, LLM tool-calling) that logs through ``agent_tui.log``."""

from __future__ import annotations

from agent_tui.demo.fleet import FleetSummary, run_fleet

__all__ = ["FleetSummary", "run_fleet"]
