"""Full index (levels, traces, stats) of a generated file: ``agent-tui stats`` vs lnav, time and peak RSS.

1 M generated lines in two copies: compact (as ``agent_tui.log`` writes) and spaced (``json.dumps``
defaults, ``", "`` and ``": "``), each measured against lnav in the same run.

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

from bench_query import AGENT_TUI, dataset, warm  # noqa: E402

LINES = 1_000_000

FORMAT = HERE / "peers" / "lnav-agent-format.json"
TIME = "/usr/bin/time"
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int) -> int:
    """Summed resident bytes of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * PAGE
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def measure(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int, int, str]:
    """Wall seconds, CPU seconds (user + system, waited-for children included), peak RSS of the largest
    process (``time -f %M``), peak summed RSS of the process tree (sampled every 20 ms) and stdout."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".time") as report, tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [TIME, "-o", report.name, "-f", "%U %S %M", *argv], stdout=out, stderr=subprocess.PIPE, env=env
        )
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        stderr = proc.stderr.read() if proc.stderr else b""
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{argv[0]} exited {proc.returncode}: {stderr.decode()[-400:]}")
        user, system, rss_kb = report.read().split()[-3:]
        out.seek(0)
        cpu = float(user) + float(system)
        return elapsed, cpu, int(rss_kb) * 1024, peak, out.read().decode(errors="replace")


def lnav_home() -> str:
    """A temporary HOME with only our format installed into lnav's config."""
    home = tempfile.mkdtemp(prefix="lnav-home-")
    env = {**os.environ, "HOME": home}
    subprocess.run(["lnav", "-i", str(FORMAT)], env=env, capture_output=True, check=True)
    return home


def main() -> int:
    load_before = os.getloadavg()[0]
    env = {**os.environ, "HOME": lnav_home()}
    rows = []
    for spelling in ("compact", "spaced"):
        path = warm(dataset(LINES, spelling))
        lines = LINES
        size = path.stat().st_size
        t_ours, cpu_ours, rss_ours, tree_ours, out = measure([str(AGENT_TUI), "stats", "--json", str(path)])
        indexed = f'"records": {lines}' in out
        t_lnav, cpu_lnav, rss_lnav, _, lnav_out = measure(
            ["lnav", "-n", "-c", ";SELECT count(*) AS n FROM agent_log", str(path)], env=env
        )
        lnav_ok = str(lines) in lnav_out
        ok = indexed and lnav_ok
        rows.append((spelling, size, t_ours, cpu_ours, rss_ours, tree_ours, t_lnav, cpu_lnav, rss_lnav, ok))
    print(f"{LINES:,} lines; load average before: {load_before:.1f}")
    print(
        f"{'spelling':>10} {'MB':>5} {'ours s':>7} {'lnav s':>7} {'× lnav':>7} {'ours CPU':>8} "
        f"{'lnav CPU':>8} {'CPU ×':>6} {'ours RSS':>9} {'ours tree':>10} {'lnav RSS':>9} {'RSS/file':>8} "
        f"{'RSS ×lnav':>9} {'ok':>4}"
    )
    for spelling, size, t_ours, cpu_ours, rss_ours, tree_ours, t_lnav, cpu_lnav, rss_lnav, ok in rows:
        worst = max(rss_ours, tree_ours)
        print(
            f"{spelling:>10} {size / 1e6:>5.0f} {t_ours:>7.2f} {t_lnav:>7.2f} {t_ours / t_lnav:>6.2f}× "
            f"{cpu_ours:>8.2f} {cpu_lnav:>8.2f} {cpu_ours / cpu_lnav:>5.2f}× "
            f"{rss_ours / 1e6:>6.0f} MB {tree_ours / 1e6:>7.0f} MB {rss_lnav / 1e6:>6.0f} MB "
            f"{worst / size:>8.2f} {worst / rss_lnav:>9.2f} {('yes' if ok else 'NO'):>4}"
        )
    print("CPU: user + system seconds of the whole run (load-robust where wall time is not);")
    print("ours RSS: largest process (time -f %M); ours tree: peak sum over the process tree")
    print("(20 ms samples); RSS/file and RSS ×lnav use the larger of the two.")
    print("targets: × lnav (agent-tui time / lnav time) ≤ 1.00, aim 0.70; RSS/file ≤ 0.40; RSS ×lnav ≤ 1.00")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
