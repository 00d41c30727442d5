"""Dead letters: put() cost, processes at once, and listing a 100k-row queue vs the sqlite3 CLI."""

from __future__ import annotations

import logging
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from agent_tui.log import JsonFormatter, trace  # noqa: E402
from agent_tui.log.dlq import DeadLetterQueue  # noqa: E402
from agent_tui.model.deadletters.reader import DeadLetterQuery, read_dead_letters  # noqa: E402
from agent_tui.model.deadletters.watch import DeadLetterWatch  # noqa: E402

PUTS = 2000
ROWS = 100_000
PROCS = 4
PER_PROC = 500
ROUNDS = 5
AGENT_TUI = str(Path(sys.executable).with_name("agent-tui"))
SEED_QUERY = (
    "SELECT operation_type, error_code, error_message, datetime(last_attempt_ts, 'unixepoch')"
    " FROM dead_letters WHERE resolved=0 ORDER BY last_attempt_ts DESC LIMIT 20"
)
PAYLOAD = {"game": "dice", "amount_usdc": 12.5, "url": "/casino/bet", "api_key": "sk-live-123"}
CHILD = """
import logging, sys
sys.path.insert(0, sys.argv[3])
from agent_tui.log.dlq import DeadLetterQueue
quiet = logging.getLogger("bench.quiet")
quiet.addHandler(logging.NullHandler())
quiet.propagate = False
with DeadLetterQueue(sys.argv[1], logger=quiet) as q:
    for n in range(int(sys.argv[2])):
        q.put("bet", TimeoutError("timed out"), payload={"n": n}, attempts=5)
"""


def _logger(directory: Path) -> logging.Logger:
    handler = logging.FileHandler(directory / "agent.jsonl")
    handler.setFormatter(JsonFormatter("bench", "casino-agent"))
    log = logging.getLogger("bench.dlq")
    log.handlers = [handler]
    log.propagate = False
    return log


def put_cost(directory: Path) -> tuple[float, float]:
    """µs per put() (row + ERROR log line) vs a naive per-row insert+commit in rollback-journal mode."""
    log = _logger(directory)
    error = TimeoutError("POST /casino/bet timed out after 10.0s")
    with DeadLetterQueue(directory / "ours.db", logger=log) as q, trace("bench", logger=log):
        started = time.perf_counter()
        for _ in range(PUTS):
            q.put("bet", error, payload=PAYLOAD, attempts=5, error_code="TIMEOUT")
        ours = (time.perf_counter() - started) / PUTS * 1e6
    conn = sqlite3.connect(directory / "naive.db")
    conn.execute(
        "CREATE TABLE dead_letters (operation_type, error_code, error_message, last_attempt_ts, resolved)"
    )
    started = time.perf_counter()
    for _ in range(PUTS):
        conn.execute("INSERT INTO dead_letters VALUES ('bet', 'TIMEOUT', ?, ?, 0)", (str(error), time.time()))
        conn.commit()
    naive = (time.perf_counter() - started) / PUTS * 1e6
    conn.close()
    return ours, naive


def concurrent_puts(directory: Path) -> tuple[float, int]:
    """Entries per second with PROCS processes putting at once, and how many rows landed."""
    db = directory / "shared.db"
    DeadLetterQueue(db).close()
    started = time.perf_counter()
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(PER_PROC), str(ROOT / "src")])
        for _ in range(PROCS)
    ]
    for proc in procs:
        proc.wait()
    seconds = time.perf_counter() - started
    count = sqlite3.connect(db).execute("SELECT count(*) FROM dead_letters").fetchone()[0]
    return PROCS * PER_PROC / seconds, int(count)


def big_queue(directory: Path) -> Path:
    """ROWS entries in our table, every other one resolved, written in one transaction."""
    db = directory / "big.db"
    DeadLetterQueue(db).close()
    conn = sqlite3.connect(db)
    now = time.time()
    conn.executemany(
        "INSERT INTO dead_letters (operation_type, error_code, error_message, last_attempt_ts, resolved,"
        " trace_id, span_id, agent_id, attempts, payload)"
        " VALUES ('bet', 'TIMEOUT', ?, ?, ?, ?, ?, 'a1', 5, ?)",
        ((f"timed out {i}", now - i, i % 2, f"{i:032x}", f"{i:016x}", f'{{"n": {i}}}') for i in range(ROWS)),
    )
    conn.commit()
    conn.close()
    return db


def _median_run(args: list[str]) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def in_process(db: Path) -> tuple[float, float]:
    """ms for our read (counts, type checks, newest 21) vs the seed query alone, both in this process."""
    ours, seed = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        read_dead_letters(db, DeadLetterQuery(limit=21))
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        conn.execute(SEED_QUERY).fetchall()
        conn.close()
        seed.append(time.perf_counter() - started)
    return statistics.median(ours) * 1000, statistics.median(seed) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-dlq-") as tmp:
        directory = Path(tmp)
        ours, naive = put_cost(directory)
        rate, landed = concurrent_puts(directory)
        db = big_queue(directory)
        tool = _median_run([AGENT_TUI, "dlq", str(db)])
        peer = _median_run(["sqlite3", f"file:{db}?mode=ro", SEED_QUERY])
        bare = _median_run([sys.executable, "-c", "pass"])
        ours_ms, seed_ms = in_process(db)
        watch = DeadLetterWatch(db)
        watch.poll()
        started = time.perf_counter()
        for _ in range(1000):
            watch.poll()
        idle_us = (time.perf_counter() - started) / 1000 * 1e6
    print(f"load average {os.getloadavg()[0]:.2f}")
    print("| what | ours | peer | ratio |")
    print("|---|---|---|---|")
    print(
        f"| put(): row + ERROR log line, µs | {ours:.0f} |"
        f" naive insert+commit (rollback journal) {naive:.0f} | {ours / naive:.2f}× |"
    )
    print(f"| {PROCS} processes × {PER_PROC} puts at once | {rate:.0f} entries/s, {landed} rows landed | | |")
    print(
        f"| list newest 20 unresolved of {ROWS} rows, s (process start included) | {tool:.3f} |"
        f" sqlite3 CLI seed query {peer:.3f} | {tool / peer:.1f}× |"
    )
    print(f"| (bare `python -c pass` start, s) | {bare:.3f} | | |")
    print(
        f"| same, in process (no start-up), ms | {ours_ms:.1f} | seed query, sqlite3 module {seed_ms:.1f} |"
        f" {ours_ms / seed_ms:.1f}× |"
    )
    print(f"| TUI poll of an unchanged db, µs | {idle_us:.1f} | | |")


if __name__ == "__main__":
    main()
