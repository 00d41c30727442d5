"""The exit guard: a graceful stop first, a watchdog that always ends the process, cleanups on every path."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

from agent_tui.shutdown import ExitGuard, remove_tree

STUCK = r"""
import os, queue, signal, sys
from agent_tui.shutdown import ExitGuard
guard = ExitGuard(grace_s=0.3)
guard.install()
guard.add_cleanup(lambda: open(sys.argv[1], "w").write("cleaned"))
guard.stopper = lambda signum: None  # a graceful path that never gets to run
full = queue.Queue(1)
full.put("frame")
print("ready", flush=True)
full.put("frame")  # blocks forever, like Textual's writer queue on a dead terminal
"""


def _run_stuck(tmp_path: Path, signum: int) -> tuple[int, str]:
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", STUCK, str(marker)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signum)
    code = proc.wait(timeout=30)
    return code, marker.read_text() if marker.exists() else ""


def test_sigterm_ends_a_process_stuck_on_a_full_queue(tmp_path: Path) -> None:
    """The hang of issue 9 (main thread in Queue.put): SIGTERM still ends it, cleanups run, status 143."""
    assert _run_stuck(tmp_path, signal.SIGTERM) == (128 + signal.SIGTERM, "cleaned")


def test_sighup_ends_a_process_stuck_on_a_full_queue(tmp_path: Path) -> None:
    """Same for SIGHUP (a dropped SSH session): status 129 and the cleanups ran."""
    assert _run_stuck(tmp_path, signal.SIGHUP) == (128 + signal.SIGHUP, "cleaned")


class _Exit:
    def __init__(self) -> None:
        self.codes: list[int] = []
        self.called = threading.Event()

    def __call__(self, code: int) -> None:
        self.codes.append(code)
        self.called.set()


def test_the_watchdog_runs_cleanups_then_exits_when_the_graceful_stop_overruns() -> None:
    """The stopper is called at once; if the process lives on, cleanups run in order and the exit follows."""
    hard_exit = _Exit()
    guard = ExitGuard(grace_s=0.05, hard_exit=hard_exit)
    done: list[str] = []
    guard.add_cleanup(lambda: done.append("first"))
    guard.add_cleanup(lambda: done.append("second"))
    guard.stopper = lambda signum: done.append(f"stop {signum}")
    guard.stop(signal.SIGTERM)
    assert done[0] == f"stop {signal.SIGTERM}"
    assert hard_exit.called.wait(30)
    assert done == [f"stop {signal.SIGTERM}", "first", "second"]
    assert hard_exit.codes == [128 + signal.SIGTERM]


def test_a_second_signal_changes_nothing() -> None:
    """Only the first signal counts: the stopper is called once and the exit status names that signal."""
    hard_exit = _Exit()
    guard = ExitGuard(grace_s=0.05, hard_exit=hard_exit)
    calls: list[int] = []
    guard.stopper = calls.append
    guard.stop(signal.SIGHUP)
    guard.stop(signal.SIGTERM)
    assert hard_exit.called.wait(30)
    assert calls == [signal.SIGHUP]
    assert hard_exit.codes == [128 + signal.SIGHUP]


def test_with_nobody_to_stop_gracefully_the_exit_is_immediate() -> None:
    """Before the app runs (no stopper) a signal runs the cleanups and exits in the handler itself."""
    hard_exit = _Exit()
    guard = ExitGuard(grace_s=60, hard_exit=hard_exit)
    done: list[str] = []
    guard.add_cleanup(lambda: done.append("cleaned"))
    guard.stop(signal.SIGHUP)
    assert done == ["cleaned"]
    assert hard_exit.codes == [128 + signal.SIGHUP]
    assert guard.watchdog is None


def test_signals_marked_at_once_skip_the_graceful_stop() -> None:
    """The TUI's SIGHUP: cleanups and exit in the handler, the stopper never called; SIGTERM still is."""
    hard_exit = _Exit()
    guard = ExitGuard(grace_s=60, hard_exit=hard_exit, at_once=(signal.SIGHUP,))
    calls: list[int] = []
    guard.stopper = calls.append
    guard.stop(signal.SIGHUP)
    assert calls == []
    assert hard_exit.codes == [128 + signal.SIGHUP]
    other = ExitGuard(grace_s=60, hard_exit=_Exit(), at_once=(signal.SIGHUP,))
    other.stopper = calls.append
    other.stop(signal.SIGTERM)
    assert calls == [signal.SIGTERM]


def test_a_failing_stopper_or_cleanup_does_not_keep_the_process_alive() -> None:
    """An exception in the graceful path forces the exit now; a failing cleanup does not stop the others."""
    hard_exit = _Exit()
    guard = ExitGuard(grace_s=60, hard_exit=hard_exit)
    done: list[str] = []
    guard.add_cleanup(lambda: Path("/nonexistent/dir/file").unlink())
    guard.add_cleanup(lambda: done.append("still ran"))

    def broken(_signum: int) -> None:
        raise RuntimeError("event loop is closed")

    guard.stopper = broken
    guard.stop(signal.SIGTERM)
    assert done == ["still ran"]
    assert hard_exit.codes == [128 + signal.SIGTERM]


def test_exit_if_stopped_exits_only_after_a_signal() -> None:
    """Without a signal it returns; after one it ends the process with the status the caller chose."""
    hard_exit = _Exit()
    guard = ExitGuard(grace_s=60, hard_exit=hard_exit)
    guard.exit_if_stopped(0)
    assert hard_exit.codes == []
    guard.stopper = lambda signum: None
    guard.stop(signal.SIGTERM)
    guard.exit_if_stopped(0)
    assert hard_exit.codes == [0]


def test_remove_tree_removes_nested_files(tmp_path: Path) -> None:
    """The demo's directory goes with everything in it (rotated files, subdirectories)."""
    root = tmp_path / "agent-tui-demo-x"
    (root / "sub").mkdir(parents=True)
    (root / "a.jsonl").write_text("{}\n")
    (root / "sub" / "b.jsonl.1").write_text("{}\n")
    remove_tree(root)
    assert not root.exists()
