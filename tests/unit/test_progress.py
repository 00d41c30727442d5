"""The stderr progress line of ``stats``: drawn only on terminals, throttled, erased at the end."""

from __future__ import annotations

import io

from agent_tui.cli.progress import StderrProgress, progress_for


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_in_place_throttled_and_erased() -> None:
    """Updates within a tenth of a second are skipped; each drawn one rewrites the line; close erases it."""
    now = [0.0]
    out = Terminal()
    progress = StderrProgress("big.jsonl", out, clock=lambda: now[0])
    progress(50, 200, 12_345)
    now[0] = 0.05
    progress(100, 200, 20_000)
    now[0] = 0.2
    progress(150, 200, 1_500_000)
    progress.close()
    assert out.getvalue() == (
        "\r\x1b[Kindexing big.jsonl 25% · 12.3k lines\r\x1b[Kindexing big.jsonl 75% · 1.5M lines\r\x1b[K"
    )


def test_pipes_get_no_progress() -> None:
    """A stream that is not a terminal gets no progress line at all."""
    assert progress_for("big.jsonl", io.StringIO()) is None
    assert isinstance(progress_for("big.jsonl", Terminal()), StderrProgress)


def test_escapes_in_the_name_are_not_written() -> None:
    """A path holding an escape sequence is shown escaped, never sent to the terminal raw."""
    out = Terminal()
    progress = StderrProgress("a\x1b[31mb", out)
    progress(1, 2, 3)
    assert "\x1b[31m" not in out.getvalue()


def test_no_progress_when_results_go_to_the_same_terminal() -> None:
    """``query`` printing matches to a terminal gets no progress line cutting into them."""
    assert progress_for("big.jsonl", Terminal(), output=Terminal()) is None
    assert progress_for("big.jsonl", Terminal(), output=io.StringIO()) is not None


def test_query_progress_names_what_it_counts() -> None:
    """The verb and unit are the caller's: ``scanning … matches`` for ``query``."""
    out = Terminal()
    progress = StderrProgress("f", out, verb="scanning", unit="matches")
    progress(2, 4, 7)
    assert out.getvalue() == "\r\x1b[Kscanning f 50% · 7 matches"
