"""``has_escaped_key`` never misses a ``\\u`` escape in an object key, and reads long escaped values once."""

from __future__ import annotations

import json
import random
import re

from agent_tui.model.query.prefilter import has_escaped_key

REFERENCE = re.compile(rb'\\u[0-9a-fA-F]{4}(?:[^"\\]|\\.)*"[ \t\r\n]*:')
"""The definition: an escape whose string ends before a colon (a regex that backtracks: quadratic in the
escapes of one long value, so only for short texts here)."""
PARTS = (b"a", b'"', b"\\", b"u", b"0", b"e", b"9", b":", b" ", b"\\u00e9", b"\\\\", b'\\"', b"\n", b"\\u9")


def test_never_misses_what_the_definition_finds_in_random_fragments() -> None:
    """Keys, values, escaped quotes and backslashes, invalid escapes and newlines in every order: every
    fragment the definition flags is flagged; the rare extra ones are invalid JSON."""
    rng = random.Random(8)
    extra = 0
    for _ in range(50_000):
        text = b"".join(rng.choice(PARTS) for _ in range(rng.randint(0, 14)))
        found = has_escaped_key(text)
        assert found or REFERENCE.search(text) is None, text
        extra += found and REFERENCE.search(text) is None
    assert extra < 1_000


def test_agrees_with_the_definition_on_json_objects() -> None:
    """On valid JSON objects whose keys and values hold escapes (json.dumps' own), both say the same."""
    rng = random.Random(3)
    words = ["level", "é", "caf\u00e9", "\u2014", 'a"b', "back\\slash", "x", "\U0001f4c8", "u0041"]
    for _ in range(5_000):
        obj = {
            "".join(rng.choices(words, k=rng.randint(1, 3))): "".join(rng.choices(words, k=rng.randint(0, 6)))
            for _ in range(rng.randint(1, 4))
        }
        for line in (json.dumps(obj).encode(), json.dumps(obj, separators=(",", ":")).encode()):
            assert has_escaped_key(line) == (REFERENCE.search(line) is not None), line


def test_finds_escaped_keys_and_ignores_escaped_values() -> None:
    """The cases the readers rely on: an escaped key anywhere on a line, escapes only in values."""
    assert has_escaped_key(b'{"\\u006cevel": "error"}')
    assert has_escaped_key(b'{"msg": "caf\\u00e9 \\u00e9", "l\\u0065vel" : 1}')
    assert not has_escaped_key(b'{"msg": "caf\\u00e9 \\u00e9\\u00e9", "level": "error"}')
    assert not has_escaped_key(b'{"msg": "\\u00e9 \\\\", "level": "\\u00e9\\\\\\"x"}')
    assert has_escaped_key(b'{"a": "\\u00e9"}\n{"b\\u00e9": 1}', 0)
    assert not has_escaped_key(b'{"b\\u00e9": 1}', 9)


def test_a_long_value_full_of_escapes_is_read_once() -> None:
    """A value of 60 000 escapes before an escaped key: found by reading each string once (the
    definition's regex takes minutes here, past the suite's timeout)."""
    line = b'{"table": "' + b"x\\u2014" * 60_000 + b'", "k\\u00e9y": 1}'
    assert has_escaped_key(line)
    assert not has_escaped_key(line.replace(b'"k\\u00e9y"', b'"key"'))
