"""Parser throughput per format: ``LineParser`` vs bare ``orjson.loads`` per line (the floor).

Inputs: our wire schema from ``benchmarks/gen.py`` (≈305 B/line, ~15 fields) and the pino, structlog and
python-json-logger recordings from tests/fixtures/corpus repeated to the same line count. Lines are parsed
in batches of 4096 (what sources hand over) with one parser per run. The methods are run in turn, several
rounds, and each one's best CPU time is kept, so load from other processes distorts the ratios less.
``BENCH_PARSE_LINES`` sets the line count (default 200 000).
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Sequence
from itertools import islice
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from agent_tui.model.parsing.parse import LineParser  # noqa: E402
from gen import Fleet  # noqa: E402

CORPUS = HERE.parent / "tests" / "fixtures" / "corpus"
N = int(os.environ.get("BENCH_PARSE_LINES", "200000"))
BATCH = 4096
ROUNDS = 5


def samples() -> dict[str, list[bytes]]:
    out = {"agent-tui schema": [line.rstrip(b"\n") for line in Fleet(7, 12).lines(N)]}
    for name in ("pino", "structlog", "python-json-logger"):
        base = (CORPUS / f"{name}.jsonl").read_bytes().splitlines()
        out[name] = list(islice((line for _ in range(N // len(base) + 1) for line in base), N))
    return out


def floor(lines: Sequence[bytes]) -> None:
    loads = orjson.loads
    for start in range(0, len(lines), BATCH):
        for line in lines[start : start + BATCH]:
            loads(line)


def parse_batch(lines: Sequence[bytes]) -> None:
    parser = LineParser()
    for start in range(0, len(lines), BATCH):
        parser.parse_batch(lines[start : start + BATCH])


def parse_columns(lines: Sequence[bytes]) -> None:
    parser = LineParser()
    for start in range(0, len(lines), BATCH):
        parser.parse_columns(lines[start : start + BATCH])


METHODS: dict[str, Callable[[Sequence[bytes]], None]] = {
    "floor": floor,
    "batch": parse_batch,
    "columns": parse_columns,
}


def measure(lines: Sequence[bytes]) -> dict[str, float]:
    """Best CPU seconds of each method over ROUNDS interleaved rounds."""
    best = dict.fromkeys(METHODS, float("inf"))
    for _ in range(ROUNDS):
        for name, method in METHODS.items():
            gc.collect()
            started = time.process_time()
            method(lines)
            best[name] = min(best[name], time.process_time() - started)
    return best


def main() -> int:
    print(f"{N} lines per format, batches of {BATCH}, best CPU time of {ROUNDS} interleaved rounds")
    print(
        "floor: orjson.loads per line · batch: parse_batch (Parsed objects) · cols: parse_columns (lists)\n"
    )
    header = (
        f"{'format':<19} {'B/line':>6} {'floor µs':>8} {'batch µs':>8} {'cols µs':>8} {'cols lines/s':>12}"
        f" {'cols MB/s':>9} {'batch÷floor':>11} {'cols÷floor':>10}"
    )
    print(header)
    print("-" * len(header))
    for name, lines in samples().items():
        n = len(lines)
        size = sum(map(len, lines))
        best = measure(lines)
        base, batch, cols = best["floor"], best["batch"], best["columns"]
        print(
            f"{name:<19} {size / n:>6.0f} {base / n * 1e6:>8.2f} {batch / n * 1e6:>8.2f}"
            f" {cols / n * 1e6:>8.2f}"
            f" {n / cols:>12,.0f} {size / cols / 1e6:>9.1f} {batch / base:>11.2f} {cols / base:>10.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
