"""``agent-tui query``: exit codes, byte-exact output, counts, time bounds and the seed's jq recipes."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent_tui.model.parsing.parse import LineParser, attrs_of
from agent_tui.model.query import StaticSubject, compile_filter
from agent_tui.model.record import Record
from tests.integration.cli.helpers import FAILED_TRACE, FLEET, MIXED, run

SEED_RECIPES = [
    'select(.level == "error")',
    f'select(.trace_id == "{FAILED_TRACE}")',
    'select(.event == "bet.complete" and .outcome == "loss" and .amount_usdc > 50)',
]


def _jq(expr: str, path: Path) -> list[object]:
    out = subprocess.run(["jq", "-c", expr, str(path)], capture_output=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("recipe", SEED_RECIPES)
def test_seed_jq_recipes_verbatim_select_the_same_records_as_jq(recipe: str) -> None:
    """Each jq filter from the seed post, pasted verbatim, selects exactly the records jq selects."""
    result = run("query", recipe, str(FLEET))
    ours = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0
    assert ours == _jq(recipe, FLEET)
    assert ours


def test_output_is_the_original_lines_byte_for_byte() -> None:
    """Matching lines come out exactly as written: spacing, key order, escapes, CRLF and all."""
    originals = MIXED.read_bytes().split(b"\n")
    result = run("query", "level >= warning", str(MIXED))
    out = result.stdout.split(b"\n")
    assert out[-1] == b""
    assert all(line in originals for line in out[:-1])
    assert b'{ "ts" : "2026-03-04T00:00:09.000Z", "level" : "warning"' in result.stdout
    assert b'"crlf","id":"m11"}\r\n' in result.stdout


def _expected(filter_text: str, path: Path) -> list[bytes]:
    filt = compile_filter(filter_text)
    kept = []
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        for parsed in LineParser().parse(line):
            record = Record(
                seq=0,
                ts=parsed.ts,
                level=parsed.level,
                event=parsed.event,
                trace_id=parsed.trace_id,
                error=parsed.error,
                raw=parsed.raw,
            )
            attrs = parsed.attrs if parsed.attrs is not None else attrs_of(line)
            if filt.matches(StaticSubject(record=record, attrs=attrs, raw=line)):
                kept.append(line)
                break
    return kept


@pytest.mark.parametrize("text", ['level == "error"', "level >= warning", "level == info", "level < error"])
def test_level_shortcut_agrees_with_parsing_every_line(text: str) -> None:
    """On a file mixing formats, duplicate/escaped keys and raw lines, the fast scan equals a full parse."""
    result = run("query", text, str(MIXED))
    assert result.stdout.split(b"\n")[:-1] == _expected(text, MIXED)


@pytest.mark.parametrize(
    "text",
    [
        'id == "m4"',
        'id == "m15"',
        'id == "m16"',
        'id in ["m2", "m5", "m10", "m15", "m16"] and level == error',
        "exists(id) and level < error",
        "evil or boom",
        'ctx.level == "info"',
    ],
)
def test_attribute_filters_agree_with_parsing_every_line(text: str) -> None:
    """Attribute and text filters, matched without building records where possible, equal a full parse."""
    result = run("query", text, str(MIXED))
    expected = _expected(text, MIXED)
    assert result.stdout.split(b"\n")[:-1] == expected
    assert expected


@pytest.mark.parametrize("text", ['level == "error"', f'trace_id == "{FAILED_TRACE}"', "amount_usdc > 50"])
def test_parallel_scan_writes_the_same_lines_in_file_order(tmp_path: Path, text: str) -> None:
    """Split over worker processes (≥ 4 chunks), a scan prints exactly what one process prints."""
    big = tmp_path / "big.jsonl"
    fleet = FLEET.read_bytes()
    big.write_bytes(b"".join(fleet.replace(b'"casino-', b'"casino%02d-' % i) for i in range(40)))
    assert big.stat().st_size > 4 << 20
    single = run("query", text, str(big), "--workers", "1")
    parallel = run("query", text, str(big), "--workers", "2")
    assert single.returncode == parallel.returncode == 0
    assert parallel.stdout == single.stdout
    assert single.stdout.count(b"casino39-") > 0


def test_exit_status_is_1_and_output_empty_when_nothing_matches() -> None:
    """No match gives status 1 and no output."""
    result = run("query", 'event == "no.such.event"', str(FLEET))
    assert (result.returncode, result.stdout) == (1, b"")


def test_bad_filter_exits_2_with_a_caret_under_the_column() -> None:
    """A malformed filter exits 2 and prints the filter with a caret under the offending column."""
    result = run("query", 'level == "error" and', str(FLEET))
    assert result.returncode == 2
    err = result.stderr.decode().splitlines()
    text_line = err.index('level == "error" and')
    caret = err[text_line + 1]
    assert caret.index("^") >= len('level == "error" ')
    assert result.stdout == b""


def test_missing_path_exits_2() -> None:
    """A path that does not exist is an error (status 2) naming the path."""
    result = run("query", "level == error", "/nonexistent/agents.jsonl")
    assert result.returncode == 2
    assert b"/nonexistent/agents.jsonl" in result.stderr


def test_count_prints_the_number_of_matches() -> None:
    """--count prints only the number of matching lines."""
    result = run("query", "level == debug", str(FLEET), "--count")
    assert (result.returncode, result.stdout) == (0, b"165\n")


def test_since_and_until_bound_by_record_time() -> None:
    """--since/--until keep exactly the records whose time lies inside the RFC 3339 bounds."""
    since, until = "2026-03-04T00:00:00.300Z", "2026-03-04T00:00:00.600Z"
    expected = [r for r in map(json.loads, FLEET.read_bytes().splitlines()) if since <= r["ts"] <= until]
    result = run("query", "level >= debug", str(FLEET), "--since", since, "--until", until)
    got = [json.loads(line) for line in result.stdout.splitlines()]
    assert got == expected
    assert 0 < len(got) < 400


def test_relative_since_in_the_future_of_the_file_matches_nothing() -> None:
    """A relative --since (15m ago) excludes a file written in 2026-03 read later, with status 1."""
    result = run("query", "level >= debug", str(FLEET), "--since", "-15m", "--count")
    assert (result.returncode, result.stdout) == (1, b"0\n")


def test_gzip_stdin_and_directory_inputs(tmp_path: Path) -> None:
    """The same query over a .gz file, stdin and a directory finds the same four error lines."""
    gz = tmp_path / "fleet.jsonl.gz"
    gz.write_bytes(gzip.compress(FLEET.read_bytes()))
    folder = tmp_path / "logs"
    folder.mkdir()
    shutil.copy(FLEET, folder / "agent.jsonl")
    expected = run("query", "level == error", str(FLEET)).stdout
    assert expected.count(b"\n") == 4
    assert run("query", "level == error", str(gz)).stdout == expected
    assert run("query", "level == error", "-", stdin=FLEET.read_bytes()).stdout == expected
    assert run("query", "level == error", str(folder)).stdout == expected


def test_lone_filter_reads_stdin() -> None:
    """With only a filter, the lines come from stdin."""
    result = run("query", "level == warning", stdin=FLEET.read_bytes())
    assert result.returncode == 0
    assert result.stdout.count(b"\n") == 1


def test_a_device_that_cannot_be_polled_is_read_to_its_end() -> None:
    """``/dev/null`` (a character device the event loop cannot wait on) is an empty input, not a hang."""
    result = run("query", "--count", "", "/dev/null")
    assert result.stdout.strip() == b"0"
    assert b"Traceback" not in result.stderr


def test_unreachable_remote_source_without_follow_exits_2() -> None:
    """Without --follow, a URL nobody answers is an error (status 2) for query, trace and stats alike."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/logs"
    for argv in (("query", "level == error", url), ("trace", "abc", url), ("stats", url)):
        result = run(*argv)
        assert result.returncode == 2, argv
        assert f"127.0.0.1:{port}".encode() in result.stderr


CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"


@pytest.mark.parametrize(
    ("name", "trace_key", "is_error"),
    [
        ("pino.jsonl", "traceId", lambda o: o.get("level", 0) >= 50),
        ("structlog.jsonl", "trace_id", lambda o: o.get("level") in ("error", "critical")),
        ("python-json-logger.jsonl", "trace_id", lambda o: o.get("levelname") in ("ERROR", "CRITICAL")),
    ],
)
def test_trace_scope_prints_every_line_of_each_matching_trace_in_file_order(
    name: str, trace_key: str, is_error: Callable[[dict[str, Any]], bool]
) -> None:
    """trace:(level >= error) prints every line of the traces holding an error, in file order (stdin too)."""
    path = CORPUS / name
    lines = path.read_bytes().splitlines()
    objs = [json.loads(line) for line in lines]
    failed = {o[trace_key] for o in objs if is_error(o) and o.get(trace_key)}
    want = [line for line, o in zip(lines, objs, strict=True) if o.get(trace_key) in failed]
    assert len(failed) == 6 and len(want) > 6 * 6
    result = run("query", "trace:(level >= error)", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == want
    piped = run("query", "--count", "trace:(level >= error)", stdin=path.read_bytes())
    assert piped.stdout.decode().strip() == str(len(want))


def test_trace_scope_with_follow_is_refused() -> None:
    """trace:(...) cannot be honoured line by line: with --follow it is a usage error, not a silent subset."""
    result = run("query", "--follow", "trace:(level >= error)", str(FLEET))
    assert result.returncode == 2
    assert b"--follow" in result.stderr


def test_pretty_lines_do_not_repeat_fields_other_libraries_used_for_time_level_message() -> None:
    """--format pretty names python-json-logger's logger as the agent and drops asctime=, exc_info=, ..."""
    result = run("query", "--format", "pretty", "level >= error", str(CORPUS / "python-json-logger.jsonl"))
    assert result.returncode == 0
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 9
    assert all(" wager_agent." in line for line in lines)
    for noise in ("asctime=", "levelname=", "name=", "message=", "exc_info=", "trace_id="):
        assert not any(noise in line for line in lines), noise
    pino = run("query", "--format", "pretty", "level >= error", str(CORPUS / "pino.jsonl")).stdout.decode()
    assert "traceId=" not in pino and " span=" not in pino and "time=" not in pino
    assert " op=llm.decide " in pino
