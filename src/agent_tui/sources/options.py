"""How a source is opened: follow mode, history bound, polling, and remote connection settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["SourceError", "SourceOptions"]


class SourceError(ValueError):
    """A source spec that cannot be opened (missing path, unknown scheme, unavailable backend)."""


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """Settings shared by every kind of source; each source uses the ones that apply to it."""

    follow: bool = False
    """Keep reading new lines after the history (``tail -F``)."""
    lines: int | None = None
    """History bound: ``None`` reads all, ``N`` the last N lines (``tail -n N``), 0 starts at the end."""
    since: float | None = None
    """Epoch seconds; records older than this are dropped by the consumer (local sources ignore it)."""
    poll_interval: float = 0.1
    """Seconds between checks for new data, rotation and new files when a followed file is idle."""
    token: str | None = None
    """Bearer token for remote sources."""
    filter_text: str | None = None
    """A filter expression ``http``/``ssh`` sources hand to ``agent-tui serve`` (it filters there)."""
    logql: str | None = None
    """The LogQL a ``loki://`` source runs instead of its URL's ``query``: the caller's filter pushed down
    (``agent_tui.model.query.logql.push_down``), so the source itself needs nothing from the model."""
    tls_verify: bool = True
    ca_file: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra request headers for remote sources (e.g. a Loki tenant)."""
    read_size: int = 1 << 20
    """Bytes per read; a batch holds at most this plus the partial line carried into it."""
    watch: bool = True
    """Also wake on inotify change events (Linux), not only every ``poll_interval``: ms follow latency."""
    rescan_interval: float | None = None
    """Seconds between directory rescans for new files (``None``: five poll intervals, at least 0.05 s)."""

    def __post_init__(self) -> None:
        if self.lines is not None and self.lines < 0:
            raise SourceError(f"lines must be >= 0, got {self.lines}")
        if self.poll_interval <= 0:
            raise SourceError(f"poll_interval must be > 0, got {self.poll_interval}")
        if self.read_size < 1:
            raise SourceError(f"read_size must be >= 1, got {self.read_size}")

    @property
    def effective_rescan_interval(self) -> float:
        """The directory rescan period actually used."""
        if self.rescan_interval is not None:
            return self.rescan_interval
        return max(self.poll_interval * 5, 0.05)
