"""A compiled filter: the predicate plus what callers need to evaluate it cheaply."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from agent_tui.model.query import analysis, prefilter
from agent_tui.model.query.compiler import FlagsOf, Predicate, compile_node
from agent_tui.model.query.errors import FilterError
from agent_tui.model.query.flagfield import FLAG_FIELD
from agent_tui.model.query.nodes import Compare, Exists, Node, TraceScope, Truthy
from agent_tui.model.query.parser import parse

__all__ = ["Filter", "compile_ast", "compile_filter"]


@dataclass(frozen=True, slots=True, eq=False)
class Filter:
    """A filter ready to run.

    Attributes:
        text: the filter as typed.
        ast: the parsed tree; ``str(ast)`` re-parses to an equal tree.
        matches: ``matches(subject) -> bool``. For a ``trace:(...)`` filter it tests the inner
            condition: callers keep every record of each trace that has a matching record.
        needs_attrs: the predicate may read ``subject.attrs``; when False callers skip attribute parsing.
        needs_raw: the predicate may read ``subject.raw`` (full-text search).
        required_substrings: every raw line that can match contains all of these byte strings, so a
            caller may skip lines missing any of them without parsing (empty when nothing is known).
            A record joined from Docker partial lines has them somewhere in its joined lines, so never
            drop a partial line before the parser has joined it (``agent_tui.model.parsing.recordlines``).
        required_keys: ``"key`` byte strings every flat JSON line that can match names (nested shapes and
            lines with escaped keys excepted; see ``prefilter``), longest first.
        id_substrings: more byte strings every matching line contains unless it is an OTLP export line
            (those rewrite hex ids); ``may_match_line`` applies both.
        may_match_line: ``may_match_line(record_bytes) -> bool``, False when the bytes of a whole record
            cannot match, judged without parsing: the one prefilter of query, serve and the view
            (``agent_tui.model.query.prefilter``).
        prefiltered: ``may_match_line`` can reject something (False when it passes every record).
        trace_scoped: this is ``trace:(inner)``.
        inner: for a trace-scoped filter, the filter of the condition inside; otherwise None.
        now: the clock relative times (``ts > -15m``) are measured from, read at each evaluation.
        flags: what answers the ``flag`` field (None: no record has a flag).
        uses_flags: the filter tests ``flag``, so its matches change as flags are raised.
    """

    text: str
    ast: Node
    matches: Predicate
    needs_attrs: bool
    needs_raw: bool
    required_substrings: tuple[bytes, ...]
    id_substrings: tuple[bytes, ...]
    required_keys: tuple[bytes, ...]
    may_match_line: Callable[[bytes], bool]
    prefiltered: bool
    trace_scoped: bool
    inner: Filter | None
    now: Callable[[], float]
    flags: FlagsOf | None = None
    uses_flags: bool = False

    @property
    def record_only(self) -> bool:
        """The predicate reads only the normalised Record (no attributes, no raw line)."""
        return not (self.needs_attrs or self.needs_raw)

    @property
    def match_all(self) -> bool:
        """The filter is empty and keeps every record."""
        return not self.text.strip()

    def __repr__(self) -> str:
        return f"Filter({self.text!r})"


def compile_filter(
    text: str, *, now: Callable[[], float] = time.time, flags: FlagsOf | None = None
) -> Filter:
    """Parse and compile filter ``text``; empty text matches every record.

    Args:
        text: the filter, e.g. ``level >= warning and trace_id == "t_7f3a2c9d"``.
        now: clock for relative times such as ``ts > -15m`` (inject a frozen one in tests).
        flags: trace id → flag names, for ``flag == "retry_storm"`` (``LogModel.flags.of``).

    Raises:
        FilterError: with the 1-based column of the mistake; ``err.caret()`` renders it.
    """
    return compile_ast(parse(text), now=now, text=text, flags=flags)


def compile_ast(
    node: Node, *, now: Callable[[], float] = time.time, text: str | None = None, flags: FlagsOf | None = None
) -> Filter:
    """Compile an already-parsed (or rewritten) tree; ``text`` defaults to ``str(node)``.

    Raises:
        FilterError: if a hand-built tree holds something the parser would have rejected.
    """
    source = str(node) if text is None else text
    try:
        predicate = compile_node(node, now, flags)
    except (ValueError, TypeError, AssertionError) as exc:
        raise FilterError(f"cannot compile filter: {exc}", 1, source) from exc
    inner = compile_ast(node.inner, now=now, flags=flags) if isinstance(node, TraceScope) else None
    found = prefilter.needles(node) if inner is None else prefilter.Needles((), ())
    keys = prefilter.required_keys(node) if inner is None else ()
    may_match_line = prefilter.line_prefilter(found, keys)
    return Filter(
        text=source,
        ast=node,
        matches=predicate,
        needs_attrs=analysis.needs_attrs(node),
        needs_raw=analysis.needs_raw(node),
        required_substrings=found.always,
        id_substrings=found.unless_otlp,
        required_keys=keys,
        may_match_line=may_match_line,
        prefiltered=may_match_line is not prefilter.any_line,
        trace_scoped=inner is not None,
        inner=inner,
        now=now,
        flags=flags,
        uses_flags=any(
            isinstance(n, Compare | Exists | Truthy) and n.field.path == FLAG_FIELD
            for n in analysis.walk(node)
        ),
    )
