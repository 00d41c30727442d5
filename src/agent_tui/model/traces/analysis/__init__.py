"""Analysis beside the trace forest: critical paths, span self times and live flags with evidence."""

from __future__ import annotations

from agent_tui.model.traces.analysis.critical import CriticalPath, critical_path
from agent_tui.model.traces.analysis.flags import FLAG_NAMES, Flag, FlagTracker, Thresholds

__all__ = ["FLAG_NAMES", "CriticalPath", "Flag", "FlagTracker", "Thresholds", "critical_path"]
