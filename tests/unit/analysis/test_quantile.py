"""RunningQuantile: the exact nearest-rank quantile whether values come by ``add`` or ``later``."""

from __future__ import annotations

import math
import random

import pytest

from agent_tui.model.traces.analysis.quantile import RunningQuantile


def nearest_rank(values: list[float], q: float) -> float:
    """The ``q`` quantile by definition: the ``max(1, ceil(q n))``-th smallest value."""
    return sorted(values)[max(1, math.ceil(q * len(values))) - 1]


@pytest.mark.parametrize("q", [0.0, 0.01, 0.5, 0.9, 0.99, 1.0])
def test_quantile_is_exact_for_any_mix_of_add_and_later(q: float) -> None:
    """Values taken in one at a time or queued and taken in at the next read give the exact quantile."""
    rng = random.Random(f"quantile-{q}")
    running = RunningQuantile(q)
    values: list[float] = []
    assert running.value == 0.0 and len(running) == 0
    for step in range(3000):
        value = rng.choice([0.0, 1.0, 2.5]) if rng.random() < 0.3 else rng.expovariate(0.01)
        values.append(value)
        if rng.random() < 0.4:
            running.add(value)
        else:
            running.later(value)
        assert len(running) == len(values)
        if step < 50 or rng.random() < 0.05:
            assert running.value == nearest_rank(values, q)
    assert running.value == nearest_rank(values, q)
