"""The same records spelled two ways: compact, and spaced as ``json.dumps`` writes them by default."""

from __future__ import annotations

import json
from collections.abc import Iterator


def respelled(lines: list[bytes]) -> Iterator[tuple[str, list[bytes]]]:
    """The lines compact (``separators=(",", ":")``) and spaced; lines that are no JSON stay as written."""
    for name, dump in (
        ("compact", lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False)),
        ("spaced", json.dumps),
    ):
        out = []
        for line in lines:
            try:
                out.append(dump(json.loads(line)).encode("utf-8", "surrogatepass"))
            except (ValueError, RecursionError):
                out.append(line)
        yield name, out
