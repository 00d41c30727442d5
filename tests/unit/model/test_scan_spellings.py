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
from agent_tui.model.query import FilterError, compile_filter
from agent_tui.model.query.linesubject import LineSubject
from agent_tui.model.query.prefilter import REBUILT_NAMES
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


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the line lists the scanner hands to the parser (``Scanner.matching``), as it goes."""
    sizes: list[int] = []
    matching = Scanner.matching

    def counting(self: Scanner, lines: list[bytes], *, pieces: bool = True) -> tuple[int, list[bytes]]:
        sizes.append(len(lines))
        return matching(self, lines, pieces=pieces)

    monkeypatch.setattr(Scanner, "matching", counting)
    return sizes


AMOUNT_LINES = [
    b'{"ts":"2026-03-04T00:00:00Z","level":"info","amount_usdc":60}',
    b'{"ts":"2026-03-04T00:00:01Z","level":"info","amount_usdc": 40}',
    b'{"ts": "2026-03-04T00:00:02Z", "level": "info", "amount_usdc" : 50.5 }',
    b'{"amount_usdc":-1e2,"level":"info"}',
    b'{"amount_usdc":5E+1}',
    b'{"amount_usdc":50}',
    b'{"amount_usdc":10,"amount_usdc":70}',
    b'{"amount_usdc":70,"amount_usdc":10}',
    b'{"\\u0061mount_usdc":70,"amount_usdc":10}',
    b'{"amount_usdc":10,"\\u0061mount_usdc":70}',
    b'{"nested":{"amount_usdc":70},"amount_usdc":10}',
    b'{"nested":{"amount_usdc":10},"amount_usdc":70}',
    b'{"nested":{"amount_usdc":70}}',
    b'{"note":"\\"amount_usdc\\":70","amount_usdc":10}',
    b'{"note":"amount_usdc","amount_usdc":70}',
    b'{"amount_usdc":"70"}',
    b'{"amount_usdc":true}',
    b'{"amount_usdc":null}',
    b'{"amount_usdc":[70]}',
    b'{"amount_usdc":123456789012345678901234567890}',
    b'{"amount_usdc":0.00000000000000000000000000000001}',
    b'{"amount_usdc":70 broken',
    b'{"amount_usdc":70}}',
    b'{"amount_usdc":10} {"amount_usdc":70}',
    b'  {"amount_usdc":70}',
    b'{"amount_usdc_total":70,"amount_usdc":10}',
    b'{"amount_usdc":10,"amount_usdc_total":70}',
    b'{"amount_usdc":70,"MESSAGE":"m","__REALTIME_TIMESTAMP":"1"}',
    b'{"amount_usdc":10,"MESSAGE":"{\\"amount_usdc\\": 70}","__REALTIME_TIMESTAMP":"1"}',
    b'{"record":{"extra":{"amount_usdc":70}}}',
    b'{"amount_usdc":10\t}',
    b'{"amount_usdc":-0}',
    b"amount_usdc=70",
]


@pytest.mark.parametrize(
    "text", ["amount_usdc > 50", "amount_usdc <= 50", "amount_usdc < 0", "amount_usdc >= 50"]
)
@pytest.mark.parametrize("escaped", [False, True], ids=["shortcut", "escaped-keys"])
def test_numbers_read_from_bytes_agree_with_a_full_parse(text: str, escaped: bool, judged: list[int]) -> None:
    """Lines the number shortcut judges (and those it must leave alone) give the full parse's answer."""
    some = [line for line in AMOUNT_LINES if escaped or b"\\u" not in line]
    # Pad past the byte searcher's small-buffer cutoff so its probing path runs too.
    filler = [b'{"ts":"2026-03-04T00:00:03Z","level":"debug","event":"tick","n":%d}' % i for i in range(6000)]
    lines = [*some, *filler, *some]
    for data in (b"\n".join(lines) + b"\n", b"\n".join(lines)):
        count, found = scanned(data, text)
        assert count == truth(lines, text), text
        assert found == [line for line in lines if _matches(line, text)], text
    # Without escaped keys the shortcut runs and drops lines unread; with them every line is parsed.
    assert (max(judged) < len(lines)) != escaped
    naming = sum(b'"amount_usdc' in line for line in lines)
    assert escaped or max(judged) < naming


def test_a_buffer_mixing_compact_and_spaced_lines_gives_the_answers_of_a_full_parse() -> None:
    """The level shortcut reads one spelling per buffer; lines in the other are parsed, never misjudged."""
    lines = FLEET.read_bytes().splitlines()
    mixed = [spell(line, "spaced") if i % 3 == 0 else line for i, line in enumerate(lines)]
    for first in (mixed, [spell(mixed[0], "spaced"), *mixed[1:]], [lines[0], *mixed[1:]]):
        data = b"\n".join(first * 3) + b"\n"
        for text in (
            'level == "error"',
            "level >= warning",
            "level <= debug",
            "level >= trace",
            'level != "info"',
        ):
            count, found = scanned(data, text)
            assert count == truth(first * 3, text), text
            assert found == [line for line in first * 3 if count and _matches(line, text)], text


def _matches(line: bytes, text: str) -> bool:
    flt = compile_filter(text)
    return any(flt.matches(LineSubject(p, line)) for p in LineParser(keep_attrs=True).parse(line))


def test_loguru_and_otel_lines_name_every_attribute_but_loguru_own_names() -> None:
    """Why the key shortcut skips the "record"/"attributes" searches: flattening invents only those names."""
    for name in ("loguru.jsonl", "otel-console.jsonl"):
        for line in (FORMATS / name).read_bytes().splitlines():
            for parsed in LineParser(keep_attrs=True).parse(line):
                invented = {key for key in parsed.attrs or {} if b'"' + key.encode() + b'"' not in line}
                assert invented <= REBUILT_NAMES, (name, invented)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_attribute_key_is_found_by_the_key_shortcut(path: Path) -> None:
    """``exists(KEY)`` and ``KEY > 0`` for each attribute name of the fixture count what a full parse does."""
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    keys = sorted(
        {
            key
            for line in lines
            for parsed in LineParser(keep_attrs=True).parse(line)
            for key in parsed.attrs or {}
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key)
        }
    )
    assert keys
    for how in ("compact", "spaced"):
        some = lines if how == "compact" else [spell(line, how) for line in lines]
        data = b"\n".join(some) + b"\n"
        for key in keys:
            for text in (f"exists({key})", f"{key} > 0"):
                try:
                    compile_filter(text)
                except FilterError:
                    continue
                assert scanned(data, text)[0] == truth(some, text), (text, how)


LEVEL_LINES = [
    b'{"level":"ERROR","msg":"a"}',
    b'{"level":50,"msg":"pino error"}',
    b'{"level":30,"msg":"pino info"}',
    b'{"level":60,"msg":"pino fatal"}',
    b'{"level":"50","msg":"a digit string"}',
    b'{"level":" error ","msg":"padded"}',
    b'{"level":"\\u001b[31merror\\u001b[0m","msg":"ansi"}',
    b'{"level":"bogus","severity":"ERROR","msg":"a name nothing reads, then a key"}',
    b'{"level":null,"severity":"ERROR","msg":"null, then a key"}',
    b'{"severityNumber":17,"msg":"otel"}',
    b'{"severity_text":"SeverityNumber.WARN2"}',
    b'{"PRIORITY":"3","MESSAGE":"journald","__REALTIME_TIMESTAMP":"1764000000000000"}',
    b'{"levelno":45,"msg":"stdlib number"}',
    b'{"levelname":"WARNING","msg":"python-json-logger"}',
    b'{"level":{"name":"ERROR","no":40},"msg":"an object"}',
    b'{"level":["error"],"msg":"a list"}',
    b'{"level":true,"msg":"a bool"}',
    b'{"level":1,"msg":"true == 1 to a dict, not to the parser"}',
    b'{"level":false,"msg":"a bool"}',
    b'{"level":0,"msg":"syslog emergency in the auto scheme"}',
    b'{"level":40.0,"msg":"a float"}',
    b'{"level":3,"msg":"a small number"}',
    b'{"\\u006cevel":"error","msg":"an escaped key"}',
    b'{"level":"info","level":"error","msg":"twice"}',
    b'{"lvl":"crit"}',
    b'{"loglevel":"fatal"}',
    b'{"msg":"no level at all"}',
    b'{"level":"error","x":1e400}',
    b'{"record":{"level":{"name":"ERROR"}},"text":"loguru"}',
    b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityText":"ERROR"},{"severityNumber":9}]}]}]}',
    b"ERROR a text line",
    b"warn: a text line in lower case",
    b'{"level":"error", broken',
    b'{"level": 50, broken',
    b"\xef\xbb\xbf" + b'{"level":"error"}',
    b"[1, 2, 3]",
    b"",
    b"   ",
]


@pytest.mark.parametrize(
    "text",
    [
        'level == "error"',
        "level >= warning",
        "level == critical",
        "level <= debug",
        'level != "info"',
        "level == info",
    ],
)
def test_other_writers_levels_read_from_their_keys_agree_with_a_full_parse(
    text: str, judged: list[int]
) -> None:
    """Lines of other writers' shapes (no {"ts":…,"level":…} start) judged by their level keys alone, and
    the lines that need the parser, give a full parse's answer; most lines are never parsed."""
    filler = [b'{"level":"debug","msg":"tick","n":%d}' % i for i in range(3000)]
    plain = [line for line in LEVEL_LINES if b"\\u006c" not in line]  # an escaped key: Docker's care
    for lines in (
        LEVEL_LINES + filler,
        filler + LEVEL_LINES[::-1],
        plain + filler + plain,
        [spell(line, "spaced") for line in LEVEL_LINES],
    ):
        judged.clear()
        count, found = scanned(b"\n".join(lines) + b"\n", text)
        assert count == truth(lines, text), text
        assert found == [line for line in lines if _matches(line, text)], text
        assert sum(judged) < 40 or b"\\u006c" in b"".join(lines)
