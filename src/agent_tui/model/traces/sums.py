"""Money and token fields summed per trace, found cheaply: a byte scan first, attributes only on a hit."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from itertools import accumulate, compress
from operator import not_
from typing import Any, Final

from agent_tui.model.parsing.columns import Appended, AttrsOf

__all__ = [
    "SUM_FIELDS",
    "SUM_NESTED",
    "SUM_READS",
    "SUM_SPEC",
    "SumValues",
    "is_summed",
    "sum_candidates",
    "sum_values",
]

SUM_FIELDS = ("amount_usdc", "payout_usdc", "cost_usd", "tokens")
"""The per-trace sums, in ``SumValues`` order."""
_NUMBER = frozenset({int, float})
"""Exact types summed (bool is an int subclass and must not count)."""
_NEEDLES = re.compile(rb'_usd|_tokens"')
"""Every line carrying a summed key matches this: lines that do not are never decoded."""
_TOKEN_PAIRS = (
    ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"),
    ("input_tokens", "output_tokens"),
    ("prompt_tokens", "completion_tokens"),
)


_TOKEN_OUTPUTS = frozenset(out for _, out in _TOKEN_PAIRS)
SUM_READS: Final = ("amount_usdc", "payout_usdc", "cost_usd", *(k for pair in _TOKEN_PAIRS for k in pair))
"""Top-level keys ``sum_values`` reads as values (a projection may decode only these and ``usage``)."""
SUM_NESTED: Final = {"usage": tuple(k for pair in _TOKEN_PAIRS for k in pair)}
"""Keys ``sum_values`` reads as objects, with the keys it reads inside them."""

SumValues = tuple[float, float, float, int]
"""``(amount_usdc, payout_usdc, cost_usd, tokens)`` of one record."""


def sum_values(attrs: Mapping[str, Any]) -> SumValues:
    """The summed fields of one record's attributes (zeros where absent or not numbers).

    Tokens are ``gen_ai.usage.input_tokens + output_tokens`` (OpenTelemetry GenAI), else
    ``input_tokens + output_tokens``, else ``prompt_tokens + completion_tokens`` (a completion),
    looked up at the top level, then under ``usage``; totals like ``total_tokens`` are not added
    again, and request-side estimates without an output count are ignored.
    """
    get = attrs.get
    amount: Any = get("amount_usdc")
    payout: Any = get("payout_usdc")
    cost: Any = get("cost_usd")
    tokens = 0
    usage = get("usage")
    nested = usage if type(usage) is dict else None
    # Without an output count at the top or a usage object there are no tokens: skip the search.
    if nested is not None or not _TOKEN_OUTPUTS.isdisjoint(attrs):
        for source in (attrs, nested):
            if source is None:
                continue
            for input_key, output_key in _TOKEN_PAIRS:
                out: Any = source.get(output_key)
                if type(out) in _NUMBER:
                    used: Any = source.get(input_key)
                    tokens = int(out) + (int(used) if type(used) in _NUMBER else 0)
                    break
            if tokens:
                break
    return (
        amount if type(amount) in _NUMBER else 0.0,
        payout if type(payout) in _NUMBER else 0.0,
        cost if type(cost) in _NUMBER else 0.0,
        tokens,
    )


def _lines_matching(lines: Sequence[bytes]) -> list[int]:
    """Indices of the lines matching the needles, found by one C-level scan of the joined batch."""
    blob = b"\n".join(lines)
    starts = list(accumulate(map((1).__add__, map(len, lines)), initial=0))
    hits: list[int] = []
    search = _NEEDLES.search
    found = search(blob)
    while found is not None:
        i = bisect_right(starts, found.start()) - 1
        hits.append(i)
        found = search(blob, starts[i + 1])
    return hits


def _part(line_index: Sequence[int], k: int) -> int:
    """Which record of its line record ``k`` is (lines like OTLP exports hold several)."""
    part = 0
    while k - part > 0 and line_index[k - part - 1] == line_index[k]:
        part += 1
    return part


_MONEY: Final = ("amount_usdc", "payout_usdc", "cost_usd")
_USAGE: Final = "usage"
_SUM_KEYS = frozenset({*_MONEY, _USAGE, *(out for _, out in _TOKEN_PAIRS)})
"""Top-level keys ``sum_values`` reads a non-zero value through (tokens need the output count)."""
SUM_SPEC: Final = (_MONEY, _TOKEN_PAIRS, _USAGE)
"""What ``sum_values`` reads, for its compiled twin (``_rowscan.scan_side``): money keys, token
(input, output) pairs in the order tried, the nested key."""


def is_summed(attrs: Mapping[str, Any]) -> bool:
    """True when a traced record with these attributes has its sums taken (``sum_candidates``)."""
    return not _SUM_KEYS.isdisjoint(attrs)


def sum_candidates(batch: Appended, attrs_of: AttrsOf | None) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """``(record index, attributes)`` of the traced records whose line may carry a summed field."""
    decoded = batch.attrs
    if decoded:
        try:
            # The parser kept the decoded mappings: their keys say which records can sum to non-zero,
            # which is cheaper than scanning the line bytes.
            found = list(compress(range(len(decoded)), map(not_, map(_SUM_KEYS.isdisjoint, decoded))))  # type: ignore[arg-type]
        except TypeError:
            pass
        else:
            tids = batch.trace_ids
            for k in found:
                attrs = decoded[k]
                if tids[k] is not None and attrs:
                    yield k, attrs
            return
    lines = batch.lines
    hits = _lines_matching(lines)
    if not hits:
        return
    if batch.one_per_line:
        records: Sequence[int] = hits
    else:
        wanted = set(hits)
        records = [k for k, i in enumerate(batch.line_index) if i in wanted]
    for k in records:
        if batch.trace_ids[k] is None:
            continue
        attrs = batch.attrs[k] if batch.attrs else None
        if attrs is None and attrs_of is not None:
            attrs = attrs_of(lines[batch.line_index[k]], _part(batch.line_index, k))
        if attrs:
            yield k, attrs
