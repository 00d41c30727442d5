"""What a flag on a trace is, and the thresholds that decide when one is raised."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Flag", "Thresholds"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When each flag is raised (defaults from the product contract; every one has a CLI option)."""

    retries: int = 3
    """Retries of one operation in one trace that make a retry storm."""
    rate_limits: int = 10
    """Rate-limit hits of one agent within ``rate_window_s`` that make a retry storm."""
    rate_window_s: float = 60.0
    repeats: int = 3
    """Identical tool or LLM calls in one trace that make an agent loop."""
    quantile: float = 0.99
    """Slow and costly: above this quantile of the traces of the same op seen so far …"""
    min_traces: int = 50
    """… once at least this many have been seen."""
    margin: float = 1.5
    """… by this factor: steady traffic keeps about 1 % of its traces above its own p99, so a bare
    quantile would flag healthy traces; 1.0 is the bare rule."""
    stuck_factor: float = 10.0
    """Stuck: running longer than this many times the median duration of its op …"""
    stuck_min_traces: int = 10
    """… once that many have finished …"""
    stuck_floor_s: float = 1.0
    """… and longer than this in any case (ops that finish instantly)."""


@dataclass(frozen=True, slots=True)
class Flag:
    """One flag on one trace (or, for per-agent rate-limit storms, one agent)."""

    name: str
    trace_id: str
    reason: str
    evidence: tuple[int, ...]
    """Seqs of the records that raised it, oldest first."""
