"""The outbox: rotated files claimed under the rotation lock, stamped, gzipped and keyed until uploaded."""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Final

from agent_tui.log.rotation import rotated_siblings
from agent_tui.log.s3.put import CHUNK

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["OUTBOX_DIR", "claim", "digests", "flock", "key_for", "staged"]

OUTBOX_DIR: Final = ".s3-outbox"
"""Sub-directory of the log directory where claimed files wait, gzipped, until they are uploaded."""

_STAMP = "%Y%m%dT%H%M%S"


def _stamped(agent_id: str, micros: int) -> str:
    """``{agent_id}.jsonl.YYYYmmddTHHMMSS.ffffffZ`` for a UTC time in microseconds."""
    at = datetime.fromtimestamp(micros // 1_000_000, UTC)
    return f"{agent_id}.jsonl.{at.strftime(_STAMP)}.{micros % 1_000_000:06d}Z"


def digests(path: str) -> tuple[str, str, int]:
    """Hex sha256, base64 MD5 and size of a file, read in chunks."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), base64.b64encode(md5.digest()).decode(), size


def _gzip(src: str, dst: str) -> None:
    """Compress ``src`` to ``dst`` atomically; same input, same bytes (name and mtime from ``src``)."""
    mtime = int(os.stat(src).st_mtime)
    with open(src, "rb") as f_in, open(dst + ".tmp", "wb") as raw:
        with gzip.GzipFile(os.path.basename(src), "wb", 6, raw, mtime) as f_out:
            shutil.copyfileobj(f_in, f_out, 1 << 20)
        # The plain source is unlinked next; the copy must be on disk first.
        os.fsync(raw.fileno())
    os.replace(dst + ".tmp", dst)


@contextlib.contextmanager
def flock(path: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the ``with`` block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def claim(log_dir: str, outbox: str, agent_id: str, *, now: float, settle_seconds: float) -> None:
    """Move settled rotated files into the outbox under the writer's rotation lock."""
    live = os.path.join(log_dir, f"{agent_id}.jsonl")
    with flock(live + ".lock"):
        for path in rotated_siblings(live):
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            gz = path.endswith(".gz")
            if not gz and now - st.st_mtime < settle_seconds:
                continue
            micros = st.st_mtime_ns // 1000
            # Bump past a name already taken (coarse mtimes) so outbox order stays rotation order.
            target = os.path.join(outbox, _stamped(agent_id, micros))
            while os.path.exists(target) or os.path.exists(target + ".gz"):
                micros += 1
                target = os.path.join(outbox, _stamped(agent_id, micros))
            os.rename(path, target + (".gz" if gz else ""))


def staged(outbox: str, agent_id: str) -> list[str]:
    """Outbox files of ``agent_id`` ready to upload (gzipping plain ones first), oldest first."""
    pattern = re.compile(re.escape(agent_id) + r"\.jsonl\.\d{8}T\d{6}\.\d{6}Z(\.gz)?")
    names = sorted(n for n in os.listdir(outbox) if pattern.fullmatch(n))
    ready: list[str] = []
    for name in names:
        path = os.path.join(outbox, name)
        if name.endswith(".gz"):
            if name[:-3] not in names:
                ready.append(path)
            continue
        gz = path + ".gz"
        if not os.path.exists(gz):
            _gzip(path, gz)
        # A .gz next to its source is complete (os.replace is atomic); the source is now redundant.
        os.unlink(path)
        ready.append(gz)
    return ready


def key_for(staged_path: str, prefix: str, agent_id: str, sha256: str) -> str:
    """``{prefix}/{agent_id}/{day}/{stamped name}-{hash}.gz``; the hash keeps keys unique."""
    name = os.path.basename(staged_path).removesuffix(".gz")
    day = re.search(r"\.jsonl\.(\d{4})(\d{2})(\d{2})T", name)
    assert day is not None  # staged() only yields stamped names
    parts = [prefix, agent_id, "-".join(day.groups()), f"{name}-{sha256[:12]}.gz"]
    return "/".join(p for p in parts if p)
