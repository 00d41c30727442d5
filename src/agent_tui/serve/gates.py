"""Server-side ``filter`` and ``since``: which lines of a source a client receives."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from agent_tui.model.linesubject import LineSubject
from agent_tui.model.parse import LineParser
from agent_tui.model.query import Filter, FilterError, compile_filter
from agent_tui.model.scan import needs_exact_numbers
from agent_tui.serve.session import GateBuilder, GateError, LineGate

__all__ = ["FilterGate", "build_gates", "default_gate_builder"]


class FilterGate:
    """Keeps the lines of one source whose record matches the filter and is not older than ``since``.

    A line that holds several records (an OTLP export) is kept when any of them passes.
    """

    def __init__(
        self, flt: Filter | None, since: float | None, overrides: Mapping[str, str] | None = None
    ) -> None:
        self.filter = flt
        self.since = since
        # Kept attributes come from orjson, which rounds integers wider than 64 bits; a filter with such
        # a literal reads them through attrs_of, which decodes exactly.
        keep = bool(flt and flt.needs_attrs and not needs_exact_numbers(flt))
        self.parser = LineParser(overrides, keep_attrs=keep)

    def select(self, lines: list[bytes]) -> list[int] | None:
        """Indices of the lines to send."""
        flt, since = self.filter, self.since
        if flt is not None and since is None:
            may_match = flt.may_match_line
            candidates = [i for i, line in enumerate(lines) if may_match(line)]
        else:
            candidates = list(range(len(lines)))
        picked = [lines[i] for i in candidates]
        keep: list[int] = []
        for index, parsed in self.parser.parse_batch(picked):
            original = candidates[index]
            if keep and keep[-1] == original:
                continue
            if since is not None and parsed.ts < since:
                continue
            if flt is None or flt.matches(LineSubject(parsed, lines[original])):
                keep.append(original)
        return keep


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
