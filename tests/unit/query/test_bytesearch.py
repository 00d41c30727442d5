"""``Finder`` finds exactly what ``bytes.find`` finds, whether its probe byte is rare or common."""

from __future__ import annotations

import random

import pytest

from agent_tui.model.query.bytesearch import Finder

NEEDLES = [b'"MESSAGE"', b"resourceLogs", b"\\u", b'"stream"', b"TimeoutError", b"Q", b"ZZ", b"aZa"]


def _buffer(seed: int, size: int, alphabet: bytes) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.choice(alphabet) for _ in range(size))


@pytest.mark.parametrize("needle", NEEDLES)
@pytest.mark.parametrize(
    "alphabet",
    [b'abc"{}:, \n', b'abcMESAGZ"\\u \n', b"ZZZZZZZZZa", b"QQQQQQQQQQ"],
    ids=["no-probe", "some-probes", "common-probe", "one-byte"],
)
def test_every_occurrence_is_found_in_order(needle: bytes, alphabet: bytes) -> None:
    """Walking a buffer hit by hit gives bytes.find's positions, past the small-buffer cutoff and below it."""
    for size in (4000, 300_000):
        data = _buffer(size, size, alphabet)
        # Plant the needle at the edges and in the middle, overlapping runs too.
        data = needle + data[: size // 2] + needle + needle + data[size // 2 :] + needle
        search = Finder(needle).searcher(data)
        found, pos = [], 0
        while (hit := search(pos)) >= 0:
            found.append(hit)
            pos = hit + 1
        expected, pos = [], 0
        while (hit := data.find(needle, pos)) >= 0:
            expected.append(hit)
            pos = hit + 1
        assert found == expected
        assert Finder(needle).find(data, len(data) // 3) == data.find(needle, len(data) // 3)


def test_an_absent_needle_is_reported_absent() -> None:
    """A rare probe byte that never completes the needle gives -1, like bytes.find."""
    data = b'{"level":"info","M":1}\n' * 20_000
    assert Finder(b'"MESSAGE"').find(data) == -1 == data.find(b'"MESSAGE"')
    with pytest.raises(ValueError, match="empty"):
        Finder(b"")
