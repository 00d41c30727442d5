"""The flag threshold options shared by the TUI, ``trace``, ``stats`` and ``replay``."""

from __future__ import annotations

import argparse

from agent_tui.model.traces.analysis import Thresholds

__all__ = ["add_flag_arguments", "thresholds_from"]

_DEFAULTS = Thresholds()
_OPTIONS: tuple[tuple[str, str, type, str], ...] = (
    ("--retry-threshold", "retries", int, "retries of one operation in a trace that make a retry storm"),
    (
        "--rate-limit-threshold",
        "rate_limits",
        int,
        "rate-limit hits of one agent per window that make a storm",
    ),
    ("--rate-limit-window", "rate_window_s", float, "seconds of that window"),
    ("--loop-threshold", "repeats", int, "identical tool/LLM calls in a trace that make an agent loop"),
    ("--slow-quantile", "quantile", float, "slow/costly: above this quantile of the op's traces"),
    ("--slow-min-traces", "min_traces", int, "… once this many traces of the op were seen"),
    ("--slow-margin", "margin", float, "… by this factor (1 = anything above the quantile)"),
    ("--stuck-factor", "stuck_factor", float, "stuck: running longer than this × the op's median"),
)


def add_flag_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one option per threshold (defaults from ``Thresholds``)."""
    group = parser.add_argument_group("flags (retry_storm, agent_loop, slow, costly, stuck)")
    for option, field, kind, text in _OPTIONS:
        default = getattr(_DEFAULTS, field)
        group.add_argument(
            option, dest=f"flag_{field}", type=kind, default=default, help=f"{text} ({default:g})"
        )


def thresholds_from(args: argparse.Namespace) -> Thresholds:
    """The thresholds the parsed options ask for.

    Raises:
        ValueError: a threshold that makes no sense (zero repeats, a quantile outside 0..1).
    """
    values = {field: getattr(args, f"flag_{field}", getattr(_DEFAULTS, field)) for _, field, _, _ in _OPTIONS}
    if min(values["retries"], values["rate_limits"], values["repeats"], values["min_traces"]) < 1:
        raise ValueError("flag thresholds must be at least 1")
    if not 0 < values["quantile"] <= 1 or values["rate_window_s"] <= 0 or values["stuck_factor"] <= 0:
        raise ValueError("--slow-quantile must be in (0, 1]; windows and factors above 0")
    return Thresholds(**values)
