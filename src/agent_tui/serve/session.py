"""One client's stream: a reader per source, optional line gate (filter, since), encoded wire bytes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from agent_tui.serve.files import PathRefused, ServedDir
from agent_tui.serve.reader import Chunk, SourceReader
from agent_tui.serve.wire import encode_chunk
from agent_tui.sources.cursor import Position, encode_cursor

__all__ = ["GateBuilder", "GateError", "LineGate", "StreamSession"]


class LineGate(Protocol):
    """Decides which lines of one source a client receives (the server-side filter and ``since``)."""

    def select(self, lines: list[bytes]) -> list[int] | None:
        """Indices of the lines to send, in order, or None to send all of them."""
        ...


class GateError(ValueError):
    """A filter or ``since`` the server cannot apply (answered with 400 and the column)."""

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


class GateBuilder(Protocol):
    """Builds the per-source gate factory for a request's ``filter`` and ``since``."""

    def __call__(self, filter_text: str | None, since: float | None) -> Callable[[str], LineGate] | None:
        """The factory, or None when every line passes.

        Raises:
            GateError: when the filter does not compile.
        """
        ...


class StreamSession:
    """Reads every selected source of the served directory for one client and encodes wire records."""

    def __init__(
        self,
        served: ServedDir,
        *,
        start: Mapping[str, list[Position]] | None = None,
        sources: list[str] | None = None,
        lines: int | None = None,
        gate_factory: Callable[[str], LineGate] | None = None,
        sse: bool = False,
        chunk_bytes: int = 256 * 1024,
    ) -> None:
        self.served = served
        self.start = dict(start or {})
        self.only = sources
        self.lines = lines
        self.gate_factory = gate_factory
        self.sse = sse
        self.chunk_bytes = chunk_bytes
        self.readers: dict[str, SourceReader] = {}
        self.gates: dict[str, LineGate] = {}
        self.warnings: list[str] = []
        self.records = 0
        self._turn = 0

    def open(self, names: list[str]) -> None:
        """Open readers for the sources that exist now (plus those the start cursor names)."""
        wanted = self.only if self.only is not None else sorted(set(names) | set(self.start))
        for name in wanted:
            self._add(name, self.start.get(name), self.lines if name not in self.start else None)

    def refresh(self, names: list[str]) -> None:
        """Pick up sources created since the stream started (read from their first byte)."""
        if self.only is not None:
            return
        for name in names:
            if name not in self.readers:
                self._add(name, None, None)

    def _add(self, name: str, start: list[Position] | None, lines: int | None) -> None:
        try:
            reader = SourceReader(self.served, name, chunk_bytes=self.chunk_bytes)
        except PathRefused:
            return
        reader.start_at(start, lines=lines)
        if reader.warning:
            self.warnings.append(reader.warning)
        self.readers[name] = reader
        if self.gate_factory is not None:
            self.gates[name] = self.gate_factory(name)

    def cursor(self) -> str:
        """The whole-stream cursor: every source's current position."""
        return encode_cursor(p for r in self.readers.values() for p in r.positions())

    def poll(self, budget: int) -> tuple[bytes, bool]:
        """Encoded records for up to ``budget`` bytes of new lines, and whether any line was read at all."""
        readers = list(self.readers.values())
        if not readers:
            return b"", False
        out: list[bytes] = []
        spent = 0
        self._turn = (self._turn + 1) % len(readers)
        for reader in readers[self._turn :] + readers[: self._turn]:
            if spent >= budget:
                break
            chunk = reader.read(budget - spent)
            if chunk is None:
                continue
            spent += chunk.ends[-1] - chunk.ends[0] + len(chunk.lines[0]) + 1
            chunk = self._gated(chunk)
            if chunk.lines:
                self.records += len(chunk.lines)
                others = self._others(reader, chunk.file_id) if self.sse else ""
                out.append(encode_chunk(chunk, self.sse, others))
        return b"".join(out), spent > 0

    def _gated(self, chunk: Chunk) -> Chunk:
        gate = self.gates.get(chunk.source)
        if gate is None:
            return chunk
        keep = gate.select(chunk.lines)
        if keep is None:
            return chunk
        return Chunk(
            chunk.source, chunk.file_id, [chunk.lines[i] for i in keep], [chunk.ends[i] for i in keep]
        )

    def _others(self, current: SourceReader, file_id: str) -> str:
        # Every position but the record's own, including the other files of its own source (a rotated
        # file still taking late appends), so an SSE id alone resumes the whole stream exactly.
        return encode_cursor(
            p
            for r in self.readers.values()
            for p in r.positions()
            if r is not current or p.file_id != file_id
        )

    def close(self) -> None:
        """Release every open file."""
        for reader in self.readers.values():
            reader.close()
        self.readers.clear()
