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


def test_repeated_values_share_one_float_each() -> None:
    """Repeats are held as one float object per distinct value (and its negation), still exact."""
    rng = random.Random("quantile-repeats")
    running = RunningQuantile(0.9)
    values = [float(rng.randrange(1, 20)) for _ in range(5000)]
    for k, value in enumerate(values):
        # Fresh float objects each time, as durations computed from timestamps are.
        (running.add if k % 3 else running.later)(value * 1.0 + 0.0)
    assert running.value == nearest_rank(values, 0.9)
    held = running._low + running._high
    assert len(held) == len(values) and len({id(v) for v in held}) <= 2 * 19


def test_mostly_distinct_values_drop_the_sharing_table() -> None:
    """When values rarely repeat the table is dropped (it would cost more than it saves), still exact."""
    rng = random.Random("quantile-distinct")
    running = RunningQuantile(0.5)
    values = [rng.random() for _ in range(2000)]
    for value in values:
        running.add(value)
    assert running._same is None and running.value == nearest_rank(values, 0.5)
