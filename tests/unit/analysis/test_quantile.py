"""RunningQuantile: the exact nearest-rank quantile whether values come by ``add`` or ``later``."""

from __future__ import annotations

import math
import random
import struct

import pytest

from agent_tui.model.traces.analysis.quantile import RunningQuantile, compiled_quantile, running_quantile


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


def test_the_compiled_quantile_is_built_and_used() -> None:
    """``make install`` compiled the quantile: flags get it (CI runs the suite with it)."""
    assert compiled_quantile is not None
    assert type(running_quantile(0.9)) is compiled_quantile


@pytest.mark.parametrize("q", [0.0, 0.01, 0.5, 0.9, 0.99, 1.0])
def test_the_compiled_quantile_is_exact_too(q: float) -> None:
    """The compiled twin gives the exact quantile for any mix of ``add`` and ``later``."""
    assert compiled_quantile is not None
    rng = random.Random(f"compiled-{q}")
    running = compiled_quantile(q)
    values: list[float] = []
    for step in range(3000):
        value = rng.choice([0.0, 1.0, 2.5]) if rng.random() < 0.3 else rng.expovariate(0.01)
        values.append(value)
        (running.add if rng.random() < 0.4 else running.later)(value)
        assert len(running) == len(values)
        if step < 50 or rng.random() < 0.05:
            assert running.value == nearest_rank(values, q)
    assert sorted(running.held()) == sorted(values)


def _same_float(a: float, b: float) -> bool:
    """Bit for bit: signed zeros apart, NaN equal to NaN."""
    return struct.pack("<d", a) == struct.pack("<d", b)


@pytest.mark.parametrize("q", [0.0, 0.5, 0.9, 1.0, -0.5, 1.5])
def test_the_compiled_quantile_reads_what_the_python_one_reads(q: float) -> None:
    """Signed zeros, NaNs, infinities and ties: both give the same float at every read, as the compiled
    heaps make heapq's moves (what sits on top among equal values depends on them)."""
    assert compiled_quantile is not None
    rng = random.Random(f"twins-{q}")
    pool = [0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, 2.5, 2.5, 1e-300]
    for _ in range(40):
        python, compiled = RunningQuantile(q), compiled_quantile(q)
        for _ in range(rng.randrange(1, 120)):
            value = rng.choice(pool) if rng.random() < 0.7 else rng.uniform(-3, 3)
            how = "add" if rng.random() < 0.5 else "later"
            getattr(python, how)(value)
            getattr(compiled, how)(value)
            if rng.random() < 0.3:
                assert _same_float(compiled.value, python.value)
        assert _same_float(compiled.value, python.value)
        assert len(compiled) == len(python)
