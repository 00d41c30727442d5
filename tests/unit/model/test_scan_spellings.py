"""Every query fast path gives the same answers whatever JSON spelling the writer used.

The same records written compactly (Go, Node, orjson), spaced the way ``json.dumps`` writes them, with the
keys in reverse order, and with escaped keys (``"\\u006cevel"``): the scanner must count and print the
same records as parsing every line, on the agent fleet and on every format fixture.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from agent_tui.model.parsing.parse import LineParser, Parsed
from agent_tui.model.query import compile_filter
from agent_tui.model.query.linesubject import LineSubject
from agent_tui.model.query.scan import Scanner, ScanPlan

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "integration" / "cli" / "data" / "fleet.jsonl"
FORMATS = ROOT / "fixtures" / "formats"
FILES = [FLEET, *sorted(p for p in FORMATS.iterdir() if p.suffix in (".jsonl", ".log"))]
TRACE = "cdc6f60aa3ec4c509786a1609d7f11c7"

FILTERS = [
    'level == "error"',
    "level >= warning",
    "level <= debug",
    f'trace_id == "{TRACE}"',
    'event == "bet.complete"',
    "amount_usdc > 50",
    'error.type == "TimeoutError"',
    'error.type == "ToolExecutionError"',
    "exists(game)",
    'outcome == "loss" and amount_usdc > 20',
    '"casino"',
    "not exists(trace_id)",
]


def _escape_first(key: str) -> str:
    return f"\\u{ord(key[0]):04x}" + key[1:]


def spell(line: bytes, how: str) -> bytes:
    """``line`` re-encoded: ``spaced`` (json.dumps defaults), ``reversed`` key order, ``escaped`` keys."""
    try:
        obj = json.loads(line)
    except ValueError:
        return line
    if not isinstance(obj, dict):
        return line
    if how == "spaced":
        return json.dumps(obj).encode()
    if how == "reversed":
        return json.dumps(dict(reversed(obj.items())), separators=(",", ":")).encode()
    text = json.dumps(obj, separators=(",", ":"))
    # Escape the first letter of every top-level key; the parser must see the same object.
    for key in obj:
        text = text.replace(json.dumps(key) + ":", '"' + _escape_first(key) + '":', 1)
    assert json.loads(text) == obj
    return text.encode()


def truth(lines: list[bytes], text: str) -> int:
    """Records passing the filter when every line is parsed."""
    flt = compile_filter(text)
    rows = LineParser(keep_attrs=True).parse_batch(lines)
    return sum(1 for index, parsed in rows if flt.matches(LineSubject(parsed, lines[index])))


def scanned(data: bytes, text: str, count_only: bool = False) -> tuple[int, list[bytes]]:
    """What ``agent-tui query`` finds in ``data``: the scanner's count and lines."""
    return Scanner(ScanPlan(filter=compile_filter(text), count_only=count_only)).scan(data)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("how", ["spaced", "reversed", "escaped"])
def test_every_spelling_gives_the_answers_of_the_compact_file(path: Path, how: str) -> None:
    """Counts and printed records agree with a full parse, and with the compact copy, in each spelling."""
    lines = path.read_bytes().split(b"\n")
    if not lines[-1]:
        lines.pop()
    respelled = [spell(line, how) for line in lines]
    compact, other = b"\n".join(lines) + b"\n", b"\n".join(respelled) + b"\n"
    position = {line: i for i, line in enumerate(respelled)}
    for text in FILTERS:
        count, found = scanned(compact, text)
        assert count == truth(lines, text), (text, "compact")
        again, found_other = scanned(other, text)
        assert again == count == truth(respelled, text), (text, how)
        assert scanned(other, text, count_only=True)[0] == count
        # The same records' lines, respelled.
        assert [position[line] for line in found_other] == [lines.index(line) for line in found], text


def test_spaced_level_lines_take_the_byte_shortcut() -> None:
    """``json.dumps``-spaced wire lines are classified by level from their bytes, not parsed."""
    spaced = b"\n".join(spell(line, "spaced") for line in FLEET.read_bytes().splitlines()) + b"\n"
    parsed: list[int] = []

    class CountingParser(LineParser):
        def parse_batch(self, lines: Sequence[bytes]) -> list[tuple[int, Parsed]]:
            parsed.append(len(lines))
            return super().parse_batch(lines)

    scanner = Scanner(ScanPlan(filter=compile_filter('level == "error"')), CountingParser)
    count, found = scanner.scan(spaced)
    assert count == len(found) == truth(spaced.splitlines(), 'level == "error"') > 0
    assert sum(parsed) == 0
    assert all(re.search(rb'"level": "error"', line) for line in found)
