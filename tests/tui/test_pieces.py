"""Unit tests of the TUI's pure pieces: sanitising, rows, themes, sparkline, since parsing."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from rich.style import Style

from agent_tui.cli.tui import parse_since
from agent_tui.model.record import ErrorInfo, Record
from agent_tui.schema import Level
from agent_tui.tui.rows import RowStyles, format_row, format_time
from agent_tui.tui.sanitize import safe_text
from agent_tui.tui.themes import ThemeError, choose_theme, load_theme, load_themes, themes_dir
from agent_tui.tui.widgets.stats_bar import sparkline

STYLES = RowStyles(
    base=Style(),
    time=Style(),
    agent=Style(),
    key=Style(),
    raw=Style(dim=True),
    levels={level: Style() for level in Level},
)


@pytest.mark.parametrize(
    "hostile",
    [
        "\x1b[2J\x1b[31mred",
        "\x1b]52;c;ZXZpbA==\x07",
        "\x9b31m",
        "abc\u202etxt.exe",
        "tab\there\r\nnext",
        "\x00\x07\x08\x7f",
    ],
)
def test_safe_text_removes_every_control_and_bidi_character(hostile: str) -> None:
    """No C0/C1 control, ESC, DEL or bidi override survives safe_text."""
    cleaned = safe_text(hostile)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in cleaned)
    assert "\u202e" not in cleaned


def test_format_row_keeps_markup_literal_and_shows_key_fields() -> None:
    """Rich markup in an event is drawn as the literal characters, with agent and key=value fields."""
    record = Record(seq=0, ts=1772582400.5, level=Level.ERROR, event="[bold red]boom[/] \x1b[31m")
    attrs = {"agent_id": "agent-7", "event": "x", "amount_usdc": 12.5}
    text = format_row(record, attrs, "src", STYLES)
    assert "[bold red]boom[/]" in text.plain
    assert "\x1b" not in text.plain
    assert "00:00:00.500 ERR  agent-7" in text.plain
    assert "amount_usdc=12.5" in text.plain


def test_format_row_shows_error_and_raw_lines() -> None:
    """Error type and message appear on the row; raw lines show their text after the badge."""
    record = Record(seq=1, ts=0.0, level=Level.ERROR, event="e", error=ErrorInfo("KeyError", "'x'"))
    assert "error=KeyError: 'x'" in format_row(record, {}, "s", STYLES).plain
    raw = Record(seq=2, ts=0.0, level=Level.INFO, event="not json", raw=True)
    assert format_row(raw, {}, "s", STYLES).plain.endswith("INFO not json")


def test_format_time_is_millisecond_precise() -> None:
    """Times render as HH:MM:SS.mmm under TZ=UTC."""
    assert format_time(1772582400.0 + 3723.042) == "01:02:03.042"


def test_all_shipped_themes_load() -> None:
    """dark, light, high-contrast and mono load from themes/*.toml with the level palette."""
    themes = load_themes(themes_dir())
    assert {"dark", "light", "high-contrast", "mono"} <= set(themes)
    assert themes["light"].dark is False
    assert themes["high-contrast"].variables["level-error"] == "#ff0000"


def test_bad_theme_file_is_a_clear_error(tmp_path: Path) -> None:
    """A theme without a primary colour raises ThemeError naming the file."""
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'bad'\n[colors]\nbackground = '#000000'\n")
    with pytest.raises(ThemeError, match=r"bad\.toml"):
        load_theme(bad)


def test_no_color_selects_mono_unless_theme_given() -> None:
    """NO_COLOR picks mono; an explicit --theme wins; default is dark."""
    assert choose_theme(None, {"NO_COLOR": "1"}) == "mono"
    assert choose_theme("light", {"NO_COLOR": "1"}) == "light"
    assert choose_theme(None, {}) == "dark"


def test_sparkline_scales_to_the_peak() -> None:
    """The largest value draws the full block, zero the lowest."""
    assert sparkline([0, 5, 10]) == "▁▅█"
    assert sparkline([0, 0]) == "▁▁"


def test_parse_since_accepts_durations_and_iso_times() -> None:
    """--since 15m is relative to now; ISO times without a zone are UTC."""
    assert parse_since("15m", 1000.0) == 100.0
    assert parse_since("2026-03-04T00:00:00", 0) == 1772582400.0
    with pytest.raises(ValueError):
        parse_since("yesterday-ish", 0)


def _corpus_line(name: str, needle: str) -> dict[str, object]:
    path = Path(__file__).parents[1] / "fixtures" / "corpus" / name
    for raw in path.read_bytes().splitlines():
        if needle.encode() in raw:
            obj = orjson.loads(raw)
            assert isinstance(obj, dict)
            return obj
    raise AssertionError(f"no line with {needle!r} in {name}")


def test_rows_leave_out_fields_already_shown_for_other_libraries() -> None:
    """python-json-logger's asctime/name and pino's traceId/err are not repeated as key=value on the row."""
    pjl = _corpus_line("python-json-logger.jsonl", '"name": "wager_agent.tools"')
    record = Record(seq=0, ts=0.0, level=Level.DEBUG, event=str(pjl["message"]))
    plain = format_row(record, pjl, "src", STYLES).plain
    assert " wager_agent. Registered 4 tools" in plain
    assert "asctime=" not in plain and "name=" not in plain and "message=" not in plain
    pino = _corpus_line("pino.jsonl", '"err":')
    error = ErrorInfo("ToolExecutionError", "boom")
    record = Record(seq=1, ts=0.0, level=Level.ERROR, event=str(pino["msg"]), error=error)
    plain = format_row(record, pino, "src", STYLES).plain
    assert "error=ToolExecutionError: boom" in plain
    assert "traceId=" not in plain and "spanId=" not in plain and "err=" not in plain
    assert "time=" not in plain and "msg=" not in plain
    assert "hostname=vm" in plain


def test_rows_without_an_agent_show_the_source_file_name() -> None:
    """A record with no agent/service/logger names its source by file name, not the start of a long path."""
    record = Record(seq=0, ts=0.0, level=Level.INFO, event="hello")
    plain = format_row(record, {"event": "hello"}, "/var/log/agents/casino.jsonl", STYLES).plain
    assert " casino.jsonl " in plain
    assert "/var/log" not in plain
    assert "INFO 127.0.0.1:80" in format_row(record, {}, "http://127.0.0.1:8080/", STYLES).plain
