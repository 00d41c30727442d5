"""to_logql pushes down only what is sound and hands back the exact residual."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_tui.model.query import StaticSubject, compile_filter
from agent_tui.model.query.logql import logql_string, re2_escape, to_logql
from agent_tui.model.record import Record
from agent_tui.schema import Level

_MATCHER = re.compile(r'(\w+)(=~|=)"((?:[^"\\]|\\.)*)"')
_STAGE = re.compile(r'(\|=|\|~) "((?:[^"\\]|\\.)*)"')


def _unquote(text: str) -> str:
    return orjson.loads(f'"{text}"')  # LogQL double-quoted strings escape like JSON for our output


def loki_keeps(query: str, labels: dict[str, str], line: bytes) -> bool:
    """What Loki would do with one entry: stream matchers on labels, then line filters in order."""
    selector, _, pipeline = query.partition("} ")
    for name, op, value in _MATCHER.findall(selector.removeprefix("{")):
        have = labels.get(name, "")
        wanted = _unquote(value)
        if (op == "=" and have != wanted) or (op == "=~" and not re.fullmatch(wanted, have)):
            return False
    text = line.decode()
    for op, value in _STAGE.findall(pipeline):
        wanted = _unquote(value)
        if (op == "|=" and wanted not in text) or (op == "|~" and not re.search(wanted, text)):
            return False
    return True


def entry(obj: dict[str, Any]) -> tuple[dict[str, str], StaticSubject]:
    level = Level[obj.get("level", "info").upper()]
    labels = {"service_name": obj.get("service", "unknown_service"), "level": level.label}
    labels.update({k: obj[k] for k in ("agent_id", "service") if k in obj})
    record = Record(seq=0, ts=0.0, level=level, event=obj.get("event", ""), trace_id=obj.get("trace_id"))
    return labels, StaticSubject(record, obj, orjson.dumps(obj))


def test_label_equalities_become_stream_matchers_and_leave_the_residual() -> None:
    """agent_id/service equalities are exact as stream matchers; the rest stays local."""
    flt = compile_filter('select(.agent_id == "casino-001" and .outcome == "loss" and .amount_usdc > 50)')
    query, residual = to_logql(flt)
    assert query == '{agent_id="casino-001"} |= "loss"'
    assert residual is not None
    assert str(residual.ast) == 'outcome == "loss" and amount_usdc > 50'


def test_fully_pushed_filter_has_no_residual() -> None:
    """A filter made only of label matches needs nothing applied locally."""
    query, residual = to_logql(compile_filter('service == "casino-agent" and agent_id in [a-1, "b.2"]'))
    assert query == '{service="casino-agent", agent_id=~"a-1|b\\\\.2"}'
    assert residual is None


def test_base_matchers_default_selector_and_empty_filter() -> None:
    """Without matchers the query selects every stream; the source's own matchers are kept."""
    assert to_logql(None) == ('{service_name=~".+"}', None)
    assert to_logql(compile_filter("")) == ('{service_name=~".+"}', None)
    query, _ = to_logql(compile_filter("Timeout"), base_matchers=['env="prod"'])
    assert query == '{env="prod"} |= "Timeout"'


def test_search_terms_and_hex_ids_become_line_filters() -> None:
    """Lowercase terms are case-insensitive regex filters; hex ids also let OTLP, journald lines through."""
    hex_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    query, residual = to_logql(compile_filter(f'trace_id == "{hex_id}" and "rate limit"'))
    rewriting = 'resourceLogs|\\"MESSAGE\\"'
    assert query == f'{{service_name=~".+"}} |~ "{hex_id}|{rewriting}" |~ "(?i)rate limit"'
    assert residual is not None
    assert residual.text == f'trace_id == "{hex_id}" and "rate limit"'


def test_level_label_is_opt_in_and_stays_in_the_residual() -> None:
    """level >= error becomes a level matcher only for LokiHandler streams, and is still checked locally."""
    flt = compile_filter("level >= error")
    assert to_logql(flt)[0] == '{service_name=~".+"}'
    query, residual = to_logql(flt, level_label=True)
    assert query == '{level=~"error|critical"}'
    assert residual is not None
    assert residual.text == "level >= error"


def test_trace_scope_and_disjunctions_push_nothing_unsound() -> None:
    """trace:(...) keeps whole traces, so no line filter may be pushed; or pushes only shared needles."""
    flt = compile_filter('trace:(error.type == "TimeoutError" and agent_id == "a")')
    assert to_logql(flt) == ('{service_name=~".+"}', flt)
    query, residual = to_logql(compile_filter('agent_id == "a" or agent_id == "b"'))
    assert query == '{service_name=~".+"}'
    assert residual is not None


def test_escaping() -> None:
    """LogQL strings and RE2 patterns are escaped so values cannot break out of the query."""
    assert logql_string('a"b\\c\n') == '"a\\"b\\\\c\\n"'
    assert re2_escape("a.b (c)|d e") == "a\\.b \\(c\\)\\|d e"
    query, _ = to_logql(compile_filter('agent_id == "x\\" } |= \\"y"'))
    assert query == '{agent_id="x\\" } |= \\"y"}'


VALUES = ["casino-001", "escrow-002", "loss", "win", "a.b", "rate limit", "4bf92f3577b34da6"]
objects = st.fixed_dictionaries(
    {"level": st.sampled_from(["debug", "info", "warning", "error", "critical"])},
    optional={
        "agent_id": st.sampled_from(VALUES[:2]),
        "service": st.sampled_from(["casino-agent", "escrow-agent"]),
        "outcome": st.sampled_from(VALUES),
        "trace_id": st.sampled_from(VALUES),
        "event": st.sampled_from(VALUES),
    },
)
atoms = st.one_of(
    st.builds(
        lambda k, v: f"{k} == {logql_string(v)}",
        st.sampled_from(["agent_id", "outcome", "trace_id"]),
        st.sampled_from(VALUES),
    ),
    st.builds(lambda v: f"service in [casino-agent, {logql_string(v)}]", st.sampled_from(VALUES)),
    st.sampled_from(
        ["level >= warning", "level == info", "level in [debug, error]", "timeout", "Rate", "loss"]
    ),
)
filters = st.lists(atoms, min_size=1, max_size=3).flatmap(
    lambda xs: st.sampled_from([" and ".join(xs), " or ".join(xs), f"not ({' and '.join(xs)})"])
)


@settings(max_examples=200)
@given(objects, filters, st.booleans())
def test_query_plus_residual_equals_the_filter(obj: dict[str, Any], text: str, level_label: bool) -> None:
    """For entries whose labels mirror their fields, Loki's answer then the residual equals the filter."""
    labels, subject = entry(obj)
    flt = compile_filter(text)
    query, residual = to_logql(flt, level_label=level_label)
    kept = loki_keeps(query, labels, subject.raw) and (residual is None or residual.matches(subject))
    assert kept is flt.matches(subject), (query, residual)


@pytest.mark.parametrize("text", ["timeout", "level >= warning", 'outcome == "loss"'])
def test_residual_keeps_the_clock(text: str) -> None:
    """The residual filter measures relative times with the original filter's clock."""
    clock = lambda: 42.0  # noqa: E731
    _, residual = to_logql(compile_filter(f"{text} and ts > -1m", now=clock))
    assert residual is not None
    assert residual.now is clock
