"""Full index (levels, traces, stats) of a generated file: ``agent-tui stats`` vs lnav, time and peak RSS.

lnav gets the JSON format definition in ``benchmarks/peers/lnav-agent-format.json``, installed with
``lnav -i`` into a throwaway ``HOME``; it is asked ``;SELECT count(*) FROM agent_log`` so it must load and
index every line (plain ``lnav -n FILE`` would also print the whole file).
Peak RSS comes from ``/usr/bin/time -f %M``.
Targets (DESIGN §9): time ≤ lnav's; RSS ≤ 0.4 × file size and ≤ lnav's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_query import AGENT_TUI, SIZES, dataset  # noqa: E402

FORMAT = HERE / "peers" / "lnav-agent-format.json"
TIME = "/usr/bin/time"


def measure(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in bytes and stdout of one run."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".time") as report:
        started = time.perf_counter()
        result = subprocess.run(
            [TIME, "-o", report.name, "-f", "%M", *argv],
            capture_output=True,
            env=env,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if result.returncode not in (0, 1):
            raise SystemExit(f"{argv[0]} exited {result.returncode}: {result.stderr.decode()[-400:]}")
        rss_kb = int(report.read().split()[-1])
    return elapsed, rss_kb * 1024, result.stdout.decode(errors="replace")


def lnav_home() -> str:
    """A temporary HOME with only our format installed into lnav's config."""
    home = tempfile.mkdtemp(prefix="lnav-home-")
    env = {**os.environ, "HOME": home}
    subprocess.run(["lnav", "-i", str(FORMAT)], env=env, capture_output=True, check=True)
    return home


def main() -> int:
    env = {**os.environ, "HOME": lnav_home()}
    rows = []
    for lines in SIZES:
        path = dataset(lines)
        size = path.stat().st_size
        t_ours, rss_ours, out = measure([str(AGENT_TUI), "stats", "--json", str(path)])
        indexed = f'"records": {lines}' in out
        t_lnav, rss_lnav, lnav_out = measure(
            ["lnav", "-n", "-c", ";SELECT count(*) AS n FROM agent_log", str(path)], env=env
        )
        lnav_ok = str(lines) in lnav_out
        rows.append((lines, size, t_ours, rss_ours, t_lnav, rss_lnav, indexed, lnav_ok))
    print(
        f"{'lines':>10} {'MB':>6} {'agent-tui s':>11} {'lnav s':>7} {'time ×':>7} "
        f"{'agent-tui RSS':>13} {'lnav RSS':>9} {'RSS/file':>8} {'RSS ×lnav':>9} {'counts ok':>9}"
    )
    for lines, size, t_ours, rss_ours, t_lnav, rss_lnav, indexed, lnav_ok in rows:
        print(
            f"{lines:>10,} {size / 1e6:>6.0f} {t_ours:>11.2f} {t_lnav:>7.2f} {t_lnav / t_ours:>6.2f}× "
            f"{rss_ours / 1e6:>10.0f} MB {rss_lnav / 1e6:>6.0f} MB {rss_ours / size:>8.2f} "
            f"{rss_ours / rss_lnav:>9.2f} {('yes' if indexed and lnav_ok else 'NO'):>9}"
        )
    print("targets: time × ≥ 1.00 (lnav / agent-tui); RSS/file ≤ 0.40; RSS ×lnav ≤ 1.00")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
