"""``agent-tui serve``: a directory's logs, read-only over HTTP (NDJSON or SSE) with exact resume cursors."""

from __future__ import annotations

from agent_tui.serve.app import CLIENTS, WATCHER, ServeConfig, make_app

__all__ = ["CLIENTS", "WATCHER", "ServeConfig", "make_app"]
