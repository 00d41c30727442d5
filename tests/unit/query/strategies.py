"""Hypothesis strategies for filter ASTs and log objects."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

from agent_tui.model.query.nodes import (
    DURATION_UNITS,
    And,
    Bool,
    Compare,
    Condition,
    Duration,
    Exists,
    Field,
    ListValue,
    Node,
    Not,
    Null,
    Num,
    Or,
    Scalar,
    Str,
    Text,
    TraceScope,
    Truthy,
)
from agent_tui.schema import LEVEL_NAMES

_SPECIAL = {("level",), ("ts",), ("flag",)}
"""Fields whose values the parser checks (levels, times, flag names): built by their own strategies."""

texts = st.text(max_size=12)
numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
)
durations = st.builds(
    Duration,
    st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False)),
    st.sampled_from(sorted(DURATION_UNITS)),
)
scalars: st.SearchStrategy[Scalar] = st.one_of(
    st.builds(Str, texts),
    st.builds(Num, numbers),
    st.builds(Bool, st.booleans()),
    st.just(Null()),
    durations,
)
fields = st.builds(Field, st.lists(texts, min_size=1, max_size=3).map(tuple)).filter(
    lambda f: f.path not in _SPECIAL
)


def _generic_compare(draw: st.DrawFn) -> Compare:
    field = draw(fields)
    op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "=~", "!~", "contains", "startswith", "in"]))
    if op in ("=~", "!~"):
        return Compare(field, op, Str(re.escape(draw(texts))))
    if op == "startswith":
        return Compare(field, op, Str(draw(texts)))
    if op == "in":
        return Compare(field, op, ListValue(tuple(draw(st.lists(scalars, max_size=3)))))
    if op in ("<", "<=", ">", ">="):
        return Compare(field, op, draw(scalars.filter(lambda v: not isinstance(v, Bool | Null))))
    return Compare(field, op, draw(scalars))


@st.composite
def compares(draw: st.DrawFn) -> Compare:
    kind = draw(st.sampled_from(["generic", "level", "ts"]))
    if kind == "level":
        value = Str(draw(st.sampled_from(LEVEL_NAMES)))
        return Compare(Field(("level",)), draw(st.sampled_from(["==", "!=", "<", ">="])), value)
    if kind == "ts":
        value = draw(
            st.one_of(
                st.builds(Duration, st.integers(-100, -1), st.sampled_from(["s", "m", "h"])),
                st.just(Str("2026-03-04T03:00:00Z")),
                st.builds(Num, st.integers(0, 2**33)),
            )
        )
        return Compare(Field(("ts",)), draw(st.sampled_from(["==", "<", ">="])), value)
    return _generic_compare(draw)


leaves: st.SearchStrategy[Condition] = st.one_of(
    compares(),
    st.builds(Exists, fields),
    st.builds(Truthy, fields),
    st.builds(Text, texts),
)


def _flat(cls: type[And] | type[Or], items: list[Condition]) -> Condition:
    flat: list[Condition] = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else [item])
    return cls(tuple(flat))


conditions: st.SearchStrategy[Condition] = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.builds(Not, children),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: _flat(And, xs)),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: _flat(Or, xs)),
    ),
    max_leaves=8,
)
nodes: st.SearchStrategy[Node] = st.one_of(conditions, st.builds(TraceScope, conditions))

# Small vocabularies so generated filters often match generated records.
VOCAB = ["0123456789abcdef", "loss", "win", "t_1", "a/b", 'q"x', "é", "<x>", "a&b", "bet.complete", ""]
VOCAB += ["Loss", "x\\y", "it's"]
KEYS = ["outcome", "event", "trace_id", "op", "error", "meta"]
json_values: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(VOCAB),
    st.integers(-3, 3),
    st.booleans(),
    st.none(),
    st.lists(st.sampled_from(VOCAB), max_size=2),
)
log_objects = st.dictionaries(
    st.sampled_from(KEYS),
    st.one_of(json_values, st.dictionaries(st.sampled_from(KEYS), json_values, max_size=2)),
    max_size=5,
)
small_fields = st.one_of(
    st.sampled_from(KEYS).map(lambda k: Field((k,))),
    st.tuples(st.sampled_from(KEYS), st.sampled_from(KEYS)).map(Field),
    st.sampled_from([Field(("error", "type")), Field(("msg",))]),
)
small_scalars = st.one_of(st.sampled_from(VOCAB).map(Str), st.integers(-3, 3).map(Num), st.just(Null()))


@st.composite
def small_compares(draw: st.DrawFn) -> Condition:
    field = draw(small_fields)
    op = draw(st.sampled_from(["==", "!=", "contains", "startswith", "in", "=~"]))
    if op == "in":
        return Compare(field, op, ListValue(tuple(draw(st.lists(small_scalars, max_size=2)))))
    if op in ("startswith", "=~"):
        word = draw(st.sampled_from(VOCAB))
        return Compare(field, op, Str(re.escape(word) if op == "=~" else word))
    return Compare(field, op, draw(small_scalars))


small_conditions: st.SearchStrategy[Condition] = st.recursive(
    st.one_of(small_compares(), st.builds(Text, st.sampled_from(VOCAB)), st.builds(Exists, small_fields)),
    lambda children: st.one_of(
        st.builds(Not, children),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: _flat(And, xs)),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: _flat(Or, xs)),
    ),
    max_leaves=6,
)


def _strings_in(obj: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    for key, value in obj.items():
        path = (*prefix, key)
        if isinstance(value, str):
            found.append((path, value))
        elif isinstance(value, list):
            found.extend((path, v) for v in value if isinstance(v, str))
        elif isinstance(value, dict):
            found.extend(_strings_in(value, path))
    return found


def anchored_conditions(obj: dict[str, Any]) -> st.SearchStrategy[Condition]:
    """Conditions built from the object's own string values, so many of them match it."""
    found = _strings_in(obj)
    if not found:
        return small_conditions

    @st.composite
    def anchored(draw: st.DrawFn) -> Condition:
        path, value = draw(st.sampled_from(found))
        op = draw(st.sampled_from(["==", "contains", "startswith", "in", "text"]))
        if op == "text":
            return Text(value)
        cut = draw(st.integers(0, len(value)))
        if op == "contains":
            return Compare(Field(path), op, Str(value[cut // 2 : cut]))
        if op == "startswith":
            return Compare(Field(path), op, Str(value[:cut]))
        if op == "in":
            return Compare(Field(path), op, ListValue((Str(value),)))
        return Compare(Field(path), op, Str(value))

    @st.composite
    def combined(draw: st.DrawFn) -> Condition:
        groups = [
            draw(st.lists(st.one_of(anchored(), anchored(), small_compares()), min_size=1, max_size=3))
            for _ in range(draw(st.integers(1, 2)))
        ]
        terms = [group[0] if len(group) == 1 else _flat(And, group) for group in groups]
        return terms[0] if len(terms) == 1 else _flat(Or, terms)

    return combined()
