"""CPU of the serial fold of a whole-file index: store, traces, stats and flags per shipped batch.

``agent-tui stats`` parses in worker processes; the main process then folds every shipped batch
(``LogModel.ingest_shipped``) one after the other, and that fold is also the live path's cost per followed
line. This parses the 1 M-line dataset once with ``loader.parse_piece`` (pickled to ``benchmarks/data``, as
the workers ship it), then times only the fold, per component, with ``time.process_time`` (robust to a
busy box), for the compact and the spaced copy. ``bench_index.py`` measures the whole command against lnav.

Usage: ``python benchmarks/bench_fold.py [ROUNDS]`` (best of ROUNDS, default 2).
"""

from __future__ import annotations

import gc
import io
import os
import pickle
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agent_tui.model.parsing.loader import Shipped, parse_piece, split_file
from agent_tui.model.session import LogModel
from bench_query import dataset

LINES = 1_000_000
PARTS = ("store", "traces", "stats", "flags")


def shipped_file(path: Path) -> Path:
    """The pickled shipped batches of ``path`` (one pickle per piece), made on first use."""
    out = path.with_suffix(".shipped.pickle")
    if not out.exists() or out.stat().st_mtime < path.stat().st_mtime:
        tmp = out.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            for start, end in split_file(str(path)):
                pickle.dump(parse_piece((str(path), start, end, None)), fh, protocol=5)
        tmp.rename(out)
    return out


def batches(blob: bytes) -> Iterator[Shipped]:
    """Unpickle one piece at a time, as the results of worker processes arrive."""
    src = io.BytesIO(blob)
    while True:
        try:
            yield from pickle.load(src)
        except EOFError:
            return


def fold_once(path: Path, blob: bytes) -> dict[str, float]:
    """CPU seconds of each component of the fold over every batch (unpickling not counted)."""
    gc.collect()
    model = LogModel()
    file = model.store.register_file(str(path), "bench")
    assert file is not None
    source = model.store.source_id(str(path))
    spent = dict.fromkeys(PARTS, 0.0)
    clock = time.process_time
    for columns, offsets, lengths in batches(blob):
        t0 = clock()
        appended = model.store.append_columns(source, columns, file, offsets, lengths)
        t1 = clock()
        model.traces.add(appended)
        t2 = clock()
        model.stats.add(appended)
        t3 = clock()
        model.flags.add(appended)
        t4 = clock()
        for part, took in zip(PARTS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            spent[part] += took
    assert len(model.store) == LINES
    return spent


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    load_before = os.getloadavg()[0]
    rows = []
    for spelling in ("compact", "spaced"):
        path = dataset(LINES, spelling)
        blob = shipped_file(path).read_bytes()
        best = dict.fromkeys(PARTS, float("inf"))
        for _ in range(rounds):
            for part, took in fold_once(path, blob).items():
                best[part] = min(best[part], took)
        rows.append((spelling, best))
    print(f"{LINES:,} lines, best of {rounds} rounds; load average before: {load_before:.1f}")
    print(f"{'spelling':>10} " + " ".join(f"{part:>8}" for part in PARTS) + f" {'fold s':>8} {'µs/line':>8}")
    for spelling, best in rows:
        total = sum(best.values())
        cells = " ".join(f"{best[part]:>8.3f}" for part in PARTS)
        print(f"{spelling:>10} {cells} {total:>8.3f} {total / LINES * 1e6:>8.2f}")
    print("CPU seconds (time.process_time) of LogModel's fold of every shipped batch, per component;")
    print("target (issue 8): fold of 1 M lines <= 1.2 s, so that it stays well inside lnav's whole run.")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
