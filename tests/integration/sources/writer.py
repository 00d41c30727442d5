"""A real log writer process for the follow tests: appends numbered lines and rotates on command.

Usage: ``python writer.py PATH PLAN_JSON``. PLAN is a list of steps:
``["write", a, b]`` lines a..b-1 (one write() each); ``["partial", n]`` line n in two writes with a pause;
``["rename"]`` rename PATH to PATH.k (keeps writing to the old file); ``["reopen"]`` reopen (create) PATH;
``["copytruncate"]`` copy PATH to PATH.k then truncate it; ``["delete"]`` unlink PATH (keeps writing to it);
``["wait"]`` block until a line arrives on stdin (the test says it has read everything so far);
``["pause", s]`` sleep s seconds. Prints ``done`` when the plan is finished.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time


def line(n: int) -> bytes:
    """The payload for line ``n``: a JSON object whose ``n`` field is the sequence number."""
    return json.dumps({"n": n, "event": "tick", "pad": "x" * (n % 37)}).encode() + b"\n"


def main() -> int:
    path, plan = sys.argv[1], json.loads(sys.argv[2])
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    fd = os.open(path, flags, 0o644)
    rotations = 0
    for step in plan:
        op = step[0]
        if op == "write":
            for n in range(step[1], step[2]):
                os.write(fd, line(n))
        elif op == "partial":
            data = line(step[1])
            os.write(fd, data[: len(data) // 2])
            time.sleep(0.15)
            os.write(fd, data[len(data) // 2 :])
        elif op == "rename":
            rotations += 1
            os.rename(path, f"{path}.{rotations}")
        elif op == "reopen":
            os.close(fd)
            fd = os.open(path, flags, 0o644)
        elif op == "copytruncate":
            rotations += 1
            shutil.copyfile(path, f"{path}.{rotations}")
            os.truncate(path, 0)
        elif op == "delete":
            os.unlink(path)
        elif op == "wait":
            sys.stdin.readline()
        elif op == "pause":
            time.sleep(step[1])
        else:
            raise SystemExit(f"unknown step {step!r}")
    os.close(fd)
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
