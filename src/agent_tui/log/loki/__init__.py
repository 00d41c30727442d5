"""Ship records to Grafana Loki's push API from a background thread (aiohttp is imported lazily)."""

from __future__ import annotations

from agent_tui.log.loki.handler import LokiHandler, LokiStats

__all__ = ["LokiHandler", "LokiStats"]
