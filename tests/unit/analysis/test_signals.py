"""Event names are sorted into retry and call kinds by a cheap word check first, with the regexes' answers."""

from __future__ import annotations

import itertools

import pytest

from agent_tui.model.traces.analysis.signals import _CALL_EVENT, _RETRY_EVENT, _kinds

_WORDS = [
    "retry", "retries", "retrying", "rate limit", "rate_limit", "RateLimit", "throttled", "too many requests",
    "TooManyRequests", "backoff", "tool", "llm", "gen_ai", "completion", "function call", "function_call",
]  # fmt: skip
# re.IGNORECASE folds the Kelvin sign, the long s and the dotted and dotless i into ASCII letters: a word
# check on the lowercase name misses some of those (gen_aı), so non-ASCII names go to the regexes.
_FOLDED = [
    "bac\u212aoff",
    "too many reque\u017fts",
    "retrie\u017f",
    "\u0130llm",
    "gen_a\u0131.chat",
    "funct\u0131on_call",
]


def _regexes(name: str) -> tuple[bool, bool]:
    return _RETRY_EVENT.search(name) is not None, _CALL_EVENT.search(name) is not None


@pytest.mark.parametrize(
    "name", [*_WORDS, *(w.upper() for w in _WORDS), *_FOLDED, "bet.placed", "", "r e t r y"]
)
def test_kinds_agree_with_the_regexes(name: str) -> None:
    """Each word alone, upper-cased, spelled with case-folded non-ASCII letters, and a few names with none."""
    assert _kinds(name) == _regexes(name)
    line = f"2026-03-04 WARN worker-3: {name} after 3 attempts"
    assert _kinds(line) == _regexes(line)


def test_kinds_agree_on_every_short_mix_of_the_words_letters() -> None:
    """All strings of up to four pieces of the words (so partial and joined words too) get the same kinds."""
    pieces = [
        "re",
        "tr",
        "y",
        "rate",
        "lim",
        "it",
        "too",
        "many",
        "tool",
        "llm",
        "gen_",
        "ai",
        "back",
        "off",
        "_",
        " ",
    ]
    names = ["".join(p) for n in range(1, 5) for p in itertools.product(pieces, repeat=n)]
    assert [_kinds(n) for n in names] == [_regexes(n) for n in names]
    assert any(any(_kinds(n)) for n in names)
