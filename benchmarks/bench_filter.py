"""Compiled filter predicates vs hand-written Python closures over 100 k parsed fleet records.

Each filter runs over the same pre-parsed subjects (record, decoded attributes, raw line), so this
measures only predicate evaluation. The peer is the closure a programmer would write by hand for the
same question; the ratio is compiled speed / hand-written speed (1.0 = no overhead). The last columns
show the raw-line prefilter (``Filter.may_match_line``): the share of lines it lets through and its scan
speed, which is what the headless query pays before parsing anything.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from agent_tui.model.parsing.parse import LineParser  # noqa: E402
from agent_tui.model.query import StaticSubject, compile_filter  # noqa: E402
from agent_tui.model.record import Record  # noqa: E402
from agent_tui.schema import Level  # noqa: E402
from gen import Fleet  # noqa: E402

N = 100_000
LLM = re.compile(r"^llm\.").search
AGENTS = frozenset({"casino-001", "escrow-002"})
REPEAT = 5


def subjects() -> list[StaticSubject]:
    """Parse N generated lines into Subjects with attributes already decoded."""
    parser = LineParser(keep_attrs=True, now=lambda: 0.0)
    out = []
    for line in Fleet(7, 12).lines(N):
        raw = line.rstrip(b"\n")
        for p in parser.parse(raw):
            record = Record(
                seq=len(out),
                ts=p.ts,
                level=p.level,
                event=p.event,
                trace_id=p.trace_id,
                span_id=p.span_id,
                parent_span_id=p.parent_span_id,
                op=p.op,
                error=p.error,
                raw=p.raw,
            )
            out.append(StaticSubject(record, p.attrs or {}, raw))
    return out


def rate(predicate: Callable[[Any], bool], items: list[Any]) -> tuple[float, int]:
    """Best-of-REPEAT evaluations per second, and the number of matches."""
    best = float("inf")
    hits = 0
    for _ in range(REPEAT):
        started = time.perf_counter()
        hits = sum(1 for s in items if predicate(s))
        best = min(best, time.perf_counter() - started)
    return len(items) / best, hits


def cases(trace_id: str) -> list[tuple[str, Callable[[Any], bool]]]:
    def attrs_bet(s: Any) -> bool:
        a = s.attrs
        amount = a.get("amount_usdc")
        return (
            a.get("event") == "bet.complete"
            and a.get("outcome") == "loss"
            and type(amount) in (int, float)
            and amount > 50
        )

    warning, error = Level.WARNING, Level.ERROR
    return [
        ("level >= warning", lambda s: s.record.level >= warning),
        ('select(.level == "error")', lambda s: s.record.level == error),
        (f'trace_id == "{trace_id}"', lambda s: s.record.trace_id == trace_id),
        ('select(.event == "bet.complete" and .outcome == "loss" and .amount_usdc > 50)', attrs_bet),
        ("duration_ms > 2s", lambda s: type(v := s.attrs.get("duration_ms")) in (int, float) and v > 2000),
        (
            "agent_id in [casino-001, escrow-002]",
            lambda s: s.attrs.get("agent_id") in {"casino-001", "escrow-002"},
        ),
        ("timeout", lambda s: b"timeout" in s.raw.lower()),
        ("TimeoutError", lambda s: b"TimeoutError" in s.raw),
        (
            'error.type == "TimeoutError" or event =~ "^llm\\\\."',
            lambda s: (
                (s.record.error is not None and s.record.error.type == "TimeoutError")
                or LLM(s.record.event) is not None
            ),
        ),
    ]


def main() -> None:
    started = time.perf_counter()
    items = subjects()
    print(f"{len(items):,} subjects parsed in {time.perf_counter() - started:.1f} s; best of {REPEAT} runs\n")
    trace_id = next(s.record.trace_id for s in items if s.record.event == "trace.failed")
    assert trace_id is not None
    header = (
        f"{'filter':<58} {'matches':>8} {'compiled M/s':>12} {'by hand M/s':>11} {'ratio':>6}"
        f" {'prefilter pass':>14} {'scan M lines/s':>14}"
    )
    print(header)
    print("-" * len(header))
    raws = [s.raw for s in items]
    for text, by_hand in cases(trace_id):
        flt = compile_filter(text)
        compiled, hits = rate(flt.matches, items)
        hand, hand_hits = rate(by_hand, items)
        assert hits == hand_hits, (text, hits, hand_hits)
        scan, passed = rate(flt.may_match_line, raws)
        shown = text if len(text) <= 58 else text[:55] + "..."
        print(
            f"{shown:<58} {hits:>8,} {compiled / 1e6:>12.2f} {hand / 1e6:>11.2f} {compiled / hand:>6.2f}"
            f" {passed / len(raws):>13.1%} {scan / 1e6:>14.1f}"
        )


if __name__ == "__main__":
    main()
