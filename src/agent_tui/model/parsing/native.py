"""The compiled scanner's entry points (``_rowscan``), each None where the install built no scanner."""

from __future__ import annotations

from typing import Any

__all__ = ["compiled"]


def compiled(name: str) -> Any:
    """``_rowscan.<name>``, or None when the scanner was not built (no C compiler at install time: the
    Python paths then do the same work, the same way)."""
    try:
        from agent_tui.model.parsing import _rowscan  # noqa: PLC0415 -- absent without a compiler
    except ImportError:
        return None
    return getattr(_rowscan, name)
