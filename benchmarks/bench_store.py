"""Index throughput and memory of the reading model (parse + Store + TraceForest + RollingStats).

Usage: ``python benchmarks/bench_store.py [N]`` (default 1 000 000 ``gen.py`` fleet lines, ~305 MB).
Prints, for the same file: the parser alone, ``LogModel.ingest`` batch by batch, and ``LogModel.load_file``
with two worker processes (wall and CPU time), then memory per indexed line measured in a fresh process.
CPU seconds are printed next to wall seconds because the box may be shared.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agent_tui.model.parsing.columns import columns_parser
from agent_tui.model.parsing.loader import iter_file_batches
from agent_tui.model.parsing.parse import LineParser
from agent_tui.model.query import compile_filter
from agent_tui.model.session import LogModel
from agent_tui.model.views.filtered import FilteredView, StoreSubject
from agent_tui.sources.base import LineBatch
from gen import Fleet

TARGET_S = 2.3
"""lnav's full-index time for 1 M lines on the reference 2-core box (the target; bench_index measures it)."""


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def cpu_s() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def write_fleet(path: Path, n: int) -> None:
    with path.open("wb") as fh:
        buf: list[bytes] = []
        for line in Fleet(7, 12).lines(n):
            buf.append(line)
            if len(buf) >= 20000:
                fh.write(b"".join(buf))
                buf.clear()
        fh.write(b"".join(buf))


def memory_child(path: str) -> None:
    """Run in a fresh interpreter: index the file in-process, report RSS and column bytes as JSON."""
    gc.collect()
    before = rss_mb()
    model = LogModel()
    model.load_file(path, workers=1)
    gc.collect()
    after = rss_mb()
    store = model.store
    columns = store.column_bytes()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(
        json.dumps(
            {
                "records": len(store),
                "before": before,
                "after": after,
                "peak": peak,
                "columns": columns,
                "ids": len(store.ids.strings),
                "traces": len(model.traces),
            }
        )
    )


FILTERS = (
    "level >= error",
    'trace_id == "{trace}"',
    'event == "bet.complete"',
    "trace:(level >= error)",
    "level >= error and amount_usdc > 1",
    "amount_usdc > 50",
)
"""Filters timed over the whole index by ``FilteredView`` (a new view computes every pass bit)."""


def filter_scans(model: LogModel) -> None:
    """CPU seconds for a fresh ``FilteredView`` per filter, next to the per-record predicate path."""
    store = model.store
    trace = store.ids.strings[len(store.ids.strings) // 2]
    sample = range(store.first_seq, min(store.end_seq, store.first_seq + 50_000))
    scale = len(store) / len(sample)
    print()
    title = f"filter over {len(store):,} records"
    print(f"{title:<46}{'view cpu s':>11}{'per-record':>11}{'kept':>9}")
    for template in FILTERS:
        f = compile_filter(template.format(trace=trace))
        cpu0 = time.process_time()
        kept = len(FilteredView(model, f))
        view_s = time.process_time() - cpu0
        # The reference: the predicate on one lazily built subject per record (extrapolated from a sample).
        cpu0 = time.process_time()
        inner = f.inner or f
        for seq in sample:
            inner.matches(StoreSubject(store, seq))
        slow_s = (time.process_time() - cpu0) * scale
        print(f"{template[:45]:<46}{view_s:11.3f}{slow_s:11.2f}{kept:9,}")


def row(name: str, wall: float, cpu: float, lines: int) -> None:
    per_million = wall * 1e6 / lines
    ratio = per_million / TARGET_S
    print(f"{name:<36}{wall:9.2f}{cpu:9.2f}{lines / wall:12,.0f}{per_million:10.1f}{ratio:8.1f}x")


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--memory":
        memory_child(sys.argv[2])
        return 0
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fleet.jsonl"
        write_fleet(path, n)
        size = path.stat().st_size
        st = path.stat()
        file_id = f"{st.st_dev}:{st.st_ino}"
        print(f"{n:,} lines, {size / 1e6:.0f} MB ({size / n:.0f} B/line); {os.cpu_count()} CPUs")
        head = f"{'step (1 MiB batches)':<36}{'wall s':>9}{'cpu s':>9}{'lines/s':>12}"
        print(f"{head}{'s per 1M':>10}{'÷ lnav':>9}")

        parser = LineParser(keep_attrs=True)
        parse = columns_parser(parser) or parser.parse_batch
        wall0, (cpu0, _) = time.perf_counter(), cpu_s()
        for lines, _offsets in iter_file_batches(str(path)):
            parse(lines)
        row(f"LineParser.{parse.__name__} alone", time.perf_counter() - wall0, cpu_s()[0] - cpu0, n)

        model = LogModel()
        wall0, (cpu0, _) = time.perf_counter(), cpu_s()
        for lines, offsets in iter_file_batches(str(path)):
            model.ingest(LineBatch(str(path), lines, offsets, file_id, str(path)))
        row("LogModel.ingest, in-process", time.perf_counter() - wall0, cpu_s()[0] - cpu0, n)
        del model
        gc.collect()

        model = LogModel()
        wall0, (cpu0, kids0) = time.perf_counter(), cpu_s()
        model.load_file(str(path), workers=2)
        wall = time.perf_counter() - wall0
        cpu1, kids1 = cpu_s()
        row("LogModel.load_file, 2 workers", wall, cpu1 - cpu0 + kids1 - kids0, n)
        print(f"{'  parent / workers cpu s':<36}{'':9}{cpu1 - cpu0:9.2f} / {kids1 - kids0:.2f}")
        filter_scans(model)
        del model
        gc.collect()

        child = subprocess.run(
            [sys.executable, __file__, "--memory", str(path)], capture_output=True, text=True, check=True
        )
        mem = json.loads(child.stdout)
        records = mem["records"]
        grown = (mem["after"] - mem["before"]) * 1e6 / records
        print()
        print(f"memory (fresh process, in-process index of {records:,} records):")
        print(f"  RSS growth {grown:.0f} B/line; store columns {mem['columns'] / records:.0f} B/line")
        print(
            f"  RSS {mem['after']:.0f} MB (before {mem['before']:.0f} MB, peak {mem['peak']:.0f} MB); "
            f"target ≤ 0.4 × file = {0.4 * size / 1e6:.0f} MB"
        )
        print(f"  {mem['traces']:,} traces, {mem['ids']:,} interned trace/span ids")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
