"""Server-side ``filter`` and ``since``: which lines of a source a client receives."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from agent_tui.model.parsing.parse import LineParser
from agent_tui.model.parsing.recordlines import RecordJudge, candidates, needs_attrs
from agent_tui.model.query import Filter, FilterError, compile_filter
from agent_tui.model.query.scan import needs_exact_numbers
from agent_tui.serve.session import GateBuilder, GateError, LineGate

__all__ = ["FilterGate", "build_gates", "default_gate_builder"]


class FilterGate:
    """Keeps the lines of one source's matching records that are not older than ``since``.

    Records as ``agent-tui query`` and ``stats`` count them (``agent_tui.model.parsing.recordlines``): a line
    holding several records (an OTLP export) is sent once when any of them passes; a Docker record split
    into partial lines is judged joined, and all its pieces are sent.
    """

    def __init__(
        self, flt: Filter | None, since: float | None, overrides: Mapping[str, str] | None = None
    ) -> None:
        self.filter = flt
        self.since = since
        # Kept attributes come from orjson, which rounds integers wider than 64 bits; a filter with such
        # a literal reads them through attrs_of, which decodes exactly.
        keep = needs_attrs(flt) and not (flt is not None and needs_exact_numbers(flt))
        self._judge = RecordJudge(flt, since, None, LineParser(overrides, keep_attrs=keep))
        # A line without a time takes the previous line's: with ``since`` no line may be skipped unparsed.
        prefilter = flt is not None and flt.prefiltered and since is None
        self._may_match = flt.may_match_line if prefilter and flt is not None else None

    def select(self, lines: list[bytes]) -> list[int] | None:
        """Indices of the lines to send."""
        picked = candidates(lines, self._may_match)
        _, keep = self._judge.judge([lines[i] for i in picked])
        return [picked[i] for i in keep]


def build_gates(
    filter_text: str | None, since: float | None, overrides: Mapping[str, str] | None = None
) -> Callable[[str], LineGate] | None:
    """The per-source gate factory for a request (None when every line passes).

    ``overrides`` are the server's ``--field ROLE=KEY`` settings, applied to every record it filters.

    Raises:
        GateError: the filter does not compile, or needs whole traces (``trace:(...)``).
    """
    flt: Filter | None = None
    if filter_text:
        try:
            flt = compile_filter(filter_text)
        except FilterError as exc:
            raise GateError(exc.message, exc.column) from exc
        if flt.trace_scoped:
            raise GateError("trace:(...) filters need whole traces; apply them on the client side", 1)
        if flt.match_all:
            flt = None
    if flt is None and since is None:
        return None
    return lambda _source: FilterGate(flt, since, overrides)


def default_gate_builder() -> GateBuilder:
    """The gate builder backed by the filter language and the line parser."""
    return build_gates
