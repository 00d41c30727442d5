"""Translate a filter into a LogQL query Loki can run, plus the residual filter to apply locally."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Final, TypeGuard

from agent_tui.model.query.compiler import compile_node
from agent_tui.model.query.errors import FilterError
from agent_tui.model.query.filter import Filter, compile_ast, compile_filter
from agent_tui.model.query.nodes import And, Compare, Condition, ListValue, MatchAll, Str, Text, TraceScope
from agent_tui.model.query.prefilter import REWRITING_MARKERS
from agent_tui.model.query.subject import StaticSubject
from agent_tui.model.record import Record
from agent_tui.schema import Level

__all__ = ["DEFAULT_SELECTOR", "logql_string", "push_down", "re2_escape", "split_selector", "to_logql"]

DEFAULT_SELECTOR: Final = 'service_name=~".+"'
"""Loki gives every entry a ``service_name`` label, so this matcher selects all streams."""

_TEXT_OPS: Final = frozenset({"=~", "!~", "contains", "startswith"})
_RE2_SPECIAL: Final = frozenset("\\.+*?()|[]{}^$")


def re2_escape(text: str) -> str:
    """Escape ``text`` for a RE2 regex (only metacharacters: RE2 rejects escaped spaces and letters)."""
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in text)


def logql_string(text: str) -> str:
    """A double-quoted LogQL string literal holding ``text``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + escaped.replace("\t", "\\t") + '"'


def to_logql(
    flt: Filter | None,
    *,
    base_matchers: Sequence[str] = (),
    label_fields: Collection[str] = ("agent_id", "service"),
    level_label: bool = False,
) -> tuple[str, Filter | None]:
    """Push what Loki can do of ``flt`` into a LogQL log query.

    Only sound pushdown happens: every line the full filter keeps is also returned by the query.

    - ``field == "x"`` / ``field in [x, y]`` on a field named in ``label_fields`` becomes a stream
      matcher and leaves the residual (this assumes the label holds the same value as the field in the
      line, as ``agent_tui.log.LokiHandler`` writes it).
    - With ``level_label`` (streams labelled by ``LokiHandler``, whose ``level`` label is the lowercase
      level name) a level comparison also becomes ``level=~"…"``; it stays in the residual.
    - The filter's required substrings become ``|= "…"`` line filters, hex ids ``|~ "id|resourceLogs"``,
      and top-level lowercase search terms ``|~ "(?i)term"``; all stay in the residual.
    - Nothing is pushed for ``trace:(...)`` filters (whole traces are kept) or through ``or``/``not``.

    Args:
        flt: the compiled filter, or None for everything.
        base_matchers: stream matchers the source already has (``'service="casino-agent"'``).
        label_fields: fields that are also Loki stream labels with the same values.
        level_label: streams carry a ``level`` label holding agent-tui level names.

    Returns:
        ``(query, residual)``: the LogQL query and the filter still to apply to returned lines (None
        when the query alone is exact).
    """
    matchers = list(base_matchers)
    ast = MatchAll() if flt is None else flt.ast
    if flt is None or isinstance(ast, MatchAll):
        return _query(matchers, []), None
    if isinstance(ast, TraceScope):
        return _query(matchers, []), flt
    conjuncts: list[Condition] = list(ast.items) if isinstance(ast, And) else [ast]
    residual: list[Condition] = []
    for item in conjuncts:
        matcher = _label_matcher(item, label_fields)
        if matcher is not None:
            matchers.append(matcher)
            continue
        if level_label:
            level_matcher = _level_matcher(item)
            if level_matcher is not None:
                matchers.append(level_matcher)
        residual.append(item)
    if not residual:
        return _query(matchers, []), None
    node = residual[0] if len(residual) == 1 else And(tuple(residual))
    rest = compile_ast(node, now=flt.now)
    return _query(matchers, _line_filters(rest, residual)), rest


def _query(matchers: list[str], stages: list[str]) -> str:
    selector = "{" + ", ".join(matchers or [DEFAULT_SELECTOR]) + "}"
    return " ".join([selector, *stages])


def _label_matcher(item: Condition, label_fields: Collection[str]) -> str | None:
    if not isinstance(item, Compare) or len(item.field.path) != 1 or item.field.path[0] not in label_fields:
        return None
    label = item.field.path[0]
    if item.op == "==" and isinstance(item.value, Str) and item.value.value:
        return f"{label}={logql_string(item.value.value)}"
    if item.op == "in" and isinstance(item.value, ListValue) and item.value.items:
        values = [v.value for v in item.value.items if isinstance(v, Str) and v.value]
        if len(values) == len(item.value.items):
            return f"{label}=~{logql_string('|'.join(re2_escape(v) for v in values))}"
    return None


def _level_matcher(item: Condition) -> str | None:
    if not isinstance(item, Compare) or item.field.path != ("level",) or item.op in _TEXT_OPS:
        return None
    # Evaluate the comparison on each level, so names, numbers and lists all come out right.
    test = compile_node(item, lambda: 0.0)
    names = [lv.label for lv in Level if test(StaticSubject(Record(seq=0, ts=0.0, level=lv, event="")))]
    if not names:
        return None
    return f"level=~{logql_string('|'.join(names))}"


def _line_filters(flt: Filter, conjuncts: list[Condition]) -> list[str]:
    stages = [f"|= {logql_string(needle.decode())}" for needle in flt.required_substrings]
    marker = "|".join(re2_escape(m.decode()) for m in REWRITING_MARKERS)
    stages += [
        f"|~ {logql_string(re2_escape(needle.decode()) + '|' + marker)}" for needle in flt.id_substrings
    ]
    for item in conjuncts:
        if _is_ascii_caseless_search(item) and item.term.encode() not in flt.required_substrings:
            stages.append(f"|~ {logql_string('(?i)' + re2_escape(item.term))}")
    return stages


def _is_ascii_caseless_search(item: Condition) -> TypeGuard[Text]:
    """A smartcase search that ignores case (lowercase ASCII term with letters)."""
    if not isinstance(item, Text) or not item.term.isascii():
        return False
    return item.term == item.term.lower() != item.term.upper()


def split_selector(query: str) -> tuple[list[str], str]:
    """Split a LogQL log query into its selector's matchers and the pipeline after it.

    Raises:
        ValueError: the query does not start with a ``{…}`` selector.
    """
    text = query.strip()
    if not text.startswith("{"):
        raise ValueError(f"a LogQL log query starts with a {{selector}}: {query[:80]!r}")
    matchers: list[str] = []
    current: list[str] = []
    quote = ""
    i = 1
    while i < len(text):
        ch = text[i]
        if quote:
            current.append(ch)
            if ch == "\\" and quote == '"' and i + 1 < len(text):
                current.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in '"`':
            quote = ch
            current.append(ch)
        elif ch in ",}":
            if "".join(current).strip():
                matchers.append("".join(current).strip())
            current = []
            if ch == "}":
                return matchers, text[i + 1 :].strip()
        else:
            current.append(ch)
        i += 1
    raise ValueError(f"unclosed LogQL selector: {query[:80]!r}")


def push_down(
    query: str, filter_text: str | None, labels: tuple[str, ...] = (), level_label: bool = False
) -> str:
    """The user's LogQL with what is sound of the filter pushed down (line filters, opted-in label matchers).

    Args:
        query: the LogQL from the URL (``agent_tui.sources.loki.query_of``).
        filter_text: the filter expression (None or invalid: nothing is pushed).
        labels: fields that are stream labels with the same values as in the line (``agent_id,service``
            for streams written by ``agent_tui.log.LokiHandler``).
        level_label: streams carry ``LokiHandler``'s ``level`` label.
    """
    if not filter_text:
        return query
    try:
        flt = compile_filter(filter_text)
        matchers, pipeline = split_selector(query)
    except (FilterError, ValueError):
        return query
    pushed, _ = to_logql(flt, base_matchers=matchers, label_fields=labels, level_label=level_label)
    merged, stages = split_selector(pushed)
    return " ".join(part for part in ("{" + ", ".join(merged) + "}", pipeline, stages) if part)
