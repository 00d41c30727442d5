from collections.abc import Sequence
from typing import Any

def scan_rows(
    lines: Sequence[bytes],
    start: int,
    out: list[Any],
    keys: tuple[str | None, ...],
    refused: tuple[str, ...],
    needs_ids: bool,
    seconds: dict[str, float],
    fractions: dict[str, float],
    levels: dict[Any, Any],
    last: float | None,
    triggers: tuple[str, ...] = ...,
    marked: list[int] | None = ...,
    /,
) -> tuple[int, float | None]: ...
def scan_side(
    lines: Sequence[bytes],
    start: int,
    keys: tuple[str, ...],
    nested: tuple[tuple[str, tuple[str, ...]], ...],
    refused: tuple[str, ...],
    spec: tuple[Any, ...],
    trace_ids: Sequence[str | None],
    sums: dict[int, Any],
    keyed: dict[int, Any],
    /,
) -> int: ...

class Quantile:
    def __init__(self, q: float) -> None: ...
    @property
    def q(self) -> float: ...
    @property
    def value(self) -> float: ...
    def add(self, value: float, /) -> None: ...
    def later(self, value: float, /) -> None: ...
    def held(self) -> list[float]: ...
    def __len__(self) -> int: ...

def per_trace(
    trace_ids: Sequence[str | None], ts: Sequence[float], levels: bytes, ts_sorted: bool, /
) -> tuple[
    dict[str | None, int],
    dict[str | None, int],
    dict[str | None, int],
    dict[str | None, float],
    dict[str | None, float],
    dict[str | None, int],
]: ...
def intern_all(interner: dict[Any, int], keys: Sequence[Any], /) -> list[int]: ...
def line_spans(lines: Sequence[bytes], position: int, /) -> tuple[str, bytes, str, bytes]: ...
