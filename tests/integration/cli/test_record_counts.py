"""One record count whatever the shape of the line: query, serve, stats and the TUI model agree.

Shapes: OTLP/JSON export lines (one line, many records), Docker json-file messages split into partial lines
(several lines, one record, judged joined), and CRLF files with blank ``\\r`` lines (no record). The truth
is a plain parse of the whole file with the filter run on every record.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import aiohttp
import orjson
import pytest

from agent_tui.cli.common import load_model
from agent_tui.model.parsing.parse import LineParser
from agent_tui.model.query import compile_filter
from agent_tui.model.query.linesubject import LineSubject
from agent_tui.model.views.filtered import FilteredView
from agent_tui.serve import ServeConfig
from tests.integration.cli.helpers import MIXED, run
from tests.integration.remote.conftest import running_app

FORMATS = Path(__file__).resolve().parents[2] / "fixtures" / "formats"
OTLP = FORMATS / "otlp.jsonl"
DOCKER = FORMATS / "docker-json-file.log"

CASES: list[tuple[str, str]] = [
    ("otlp", ""),
    ("otlp", "level >= warning"),
    ("otlp", "level == debug"),
    ("otlp", 'event == "task.started"'),
    ("otlp", "exists(task)"),
    ("otlp", "task >= 2"),
    ("otlp", 'exception.type == "ValueError"'),
    ("otlp", '."service.name" == "wager-agent" and level == info'),
    ("docker", ""),
    ("docker", "level >= error"),
    ("docker", 'event == "llm.prompt"'),
    ("docker", "exists(prompt)"),
    ("docker", 'prompt startswith "xxxx"'),
    ("docker", "level == debug and exists(prompt)"),
    ("docker", "not exists(prompt) and level <= debug"),
    ("crlf", ""),
    ("crlf", "level == info"),
    ("crlf", 'event == "session.started"'),
    ("crlf", "exists(agent_id)"),
    ("mixed", ""),
    ("mixed", "level >= error"),
    ("mixed", "exists(id)"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fixtures, plus a CRLF copy of the agent-tui fixture with a blank ``\\r`` line after each record."""
    root = tmp_path_factory.mktemp("shapes")
    crlf = root / "crlf.jsonl"
    crlf.write_bytes((FORMATS / "agent-tui.jsonl").read_bytes().replace(b"\n", b"\r\n\r\n"))
    return {"otlp": OTLP, "docker": DOCKER, "crlf": crlf, "mixed": MIXED}


def truth(path: Path, text: str) -> int:
    """Records of the file that pass the filter, by parsing every line (pieces joined by the parser)."""
    return truth_of_lines(path.read_bytes().split(b"\n"), text)


@pytest.mark.parametrize(("shape", "text"), CASES)
def test_query_count_output_and_tui_view_count_the_same_records(
    files: dict[str, Path], shape: str, text: str
) -> None:
    """``query --count`` and the TUI model's filtered view count the records a full parse matches, and
    ``query`` prints each line of those records once (all pieces of a joined record)."""
    path = files[shape]
    expected = truth(path, text)
    counted = run("query", "--count", text, str(path))
    assert counted.returncode == (0 if expected else 1), counted.stderr
    assert int(counted.stdout) == expected
    model = load_model([str(path)])
    view = FilteredView(model, compile_filter(text)) if text else None
    assert (len(view) if view is not None else len(model.store)) == expected
    printed = run("query", text, str(path)).stdout.split(b"\n")[:-1]
    assert len(set(printed)) == len(printed)
    assert truth_of_lines(printed, text) == expected


def truth_of_lines(lines: list[bytes], text: str) -> int:
    """Matching records among the printed lines, parsed afresh (their records are whole again)."""
    flt = compile_filter(text)
    rows = LineParser(keep_attrs=True).parse_batch(lines)
    return sum(1 for index, parsed in rows if flt.matches(LineSubject(parsed, lines[index])))


@pytest.mark.parametrize("shape", ["otlp", "docker", "crlf", "mixed"])
def test_stats_counts_the_records_query_counts(files: dict[str, Path], shape: str) -> None:
    """``stats`` records and per-level totals equal ``query --count`` with no filter and by level."""
    path = files[shape]
    data = orjson.loads(run("stats", "--json", str(path)).stdout)
    assert data["records"] == truth(path, "") == int(run("query", "--count", "", str(path)).stdout)
    for level, total in data["levels"].items():
        assert total == truth(path, f"level == {level}"), level


@pytest.mark.parametrize(("shape", "text"), [case for case in CASES if case[1]])
async def test_serve_filter_sends_the_lines_query_prints(
    files: dict[str, Path], tmp_path: Path, shape: str, text: str
) -> None:
    """``serve ?filter=`` sends exactly the lines ``query`` prints for the same filter, in order."""
    # serve holds an unterminated last line back until its newline (a writer may be mid-line).
    data = files[shape].read_bytes()
    path = tmp_path / files[shape].name
    path.write_bytes(data if data.endswith(b"\n") else data + b"\n")
    printed = run("query", text, str(path)).stdout.split(b"\n")[:-1]
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        url = f"{base}/api/stream?follow=0&source={quote(path.name)}&filter={quote(text)}"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
            body = await response.read()
    sent = [o.get("line") for o in map(orjson.loads, filter(None, body.split(b"\n"))) if "source" in o]
    assert sent == [_wire_line(line) for line in printed]


def _wire_line(line: bytes) -> object:
    """What the wire carries for a line: the JSON value itself, else the text."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return line.decode("utf-8", "replace")
