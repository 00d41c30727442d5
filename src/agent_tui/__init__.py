"""agent-tui: live trace trees, filters and rolling counts for AI agent JSONL logs."""

__version__ = "0.1.0"
