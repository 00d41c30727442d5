"""``agent-tui PATH`` rejects bad options with a clear message and exit 2 before taking over the screen."""

from __future__ import annotations

import pytest

from tests.integration.cli.helpers import FLEET, run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-records", "-5"], b"--max-records must be at least 1"),
        (["--max-records", "0"], b"--max-records must be at least 1"),
        (["--theme", "nope"], b"unknown theme 'nope': use one of dark, high-contrast, light, mono"),
        (["--since", "yesterday"], b"cannot read --since 'yesterday' as a time"),
        (["--filter", "level >="], b"bad filter: missing value after '>='"),
    ],
)
def test_bad_tui_option_exits_2_with_a_message_and_no_screen(args: list[str], message: bytes) -> None:
    """Each bad option is named on stderr, the exit status is 2, and no terminal escapes were written."""
    result = run(*args, str(FLEET))
    assert result.returncode == 2
    assert message in result.stderr
    assert b"\x1b[" not in result.stdout + result.stderr


def test_bad_filter_shows_a_caret_under_the_column() -> None:
    """A bad --filter is reported like query's: the expression, then a caret under the mistake."""
    result = run("--filter", "level >= warnin", str(FLEET))
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert "level >= warnin" in lines
    assert lines[lines.index("level >= warnin") + 1].index("^") == len("level >= ")
