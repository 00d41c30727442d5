"""A real agent process for the rotation tests: logs numbered records through ``setup_logging(log_dir=...)``.

Usage: ``python log_writer.py DIR WRITER_ID COUNT MAX_BYTES [gz]`` (``MAX_BYTES`` 0 keeps the 50 MB
default; ``gz`` compresses rotated files in the background).
Every record is ``tick`` with ``w`` (the writer id) and ``i`` (0..COUNT-1), so a reader can check that it
got each one exactly once. Rotated files are never pruned, so every record stays on disk.
"""

from __future__ import annotations

import logging
import sys

from agent_tui.log import ObservabilityConfig, setup_logging


def main() -> int:
    directory, writer, count, max_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    sizes = {"max_bytes": max_bytes} if max_bytes else {}
    compress = sys.argv[5:] == ["gz"]
    config = ObservabilityConfig(
        "agent",
        "rotation-test",
        log_dir=directory,
        console=False,
        backup_count=100_000,
        compress=compress,
        **sizes,
    )
    log = setup_logging(config)
    for i in range(count):
        log.info("tick", extra={"w": writer, "i": i})
    logging.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
