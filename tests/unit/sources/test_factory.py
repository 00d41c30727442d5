"""open_source dispatch and the fair merge of several sources."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent_tui.sources import factory
from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.sources.directory import DirectorySource
from agent_tui.sources.factory import merged, open_source
from agent_tui.sources.file import FileSource
from agent_tui.sources.options import SourceError, SourceOptions
from agent_tui.sources.stdin import StdinSource


def test_specs_map_to_local_sources(tmp_path: Path) -> None:
    """A directory, a file, file://, and '-' each open the matching local source named by the spec."""
    log = tmp_path / "a.jsonl"
    log.write_bytes(b"")
    options = SourceOptions()
    assert isinstance(open_source(str(tmp_path), options), DirectorySource)
    assert isinstance(open_source(str(log), options), FileSource)
    assert isinstance(open_source(f"file://{log}", options), FileSource)
    assert isinstance(open_source("-", options), StdinSource)
    assert open_source(str(log), options).name == str(log)


def test_missing_path_is_an_error_unless_following(tmp_path: Path) -> None:
    """A path that does not exist fails fast without --follow and is waited for with it."""
    missing = str(tmp_path / "nope.jsonl")
    with pytest.raises(SourceError, match="no such file"):
        open_source(missing, SourceOptions())
    assert isinstance(open_source(missing, SourceOptions(follow=True)), FileSource)


def test_unknown_scheme_lists_the_supported_ones() -> None:
    """An unknown URL scheme gives a clear error naming the schemes that work."""
    with pytest.raises(SourceError, match=r"unknown scheme 'ftp'.*http, https, loki, lokis, ssh"):
        open_source("ftp://host/x", SourceOptions())


def test_missing_remote_backend_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scheme whose module is not installed names the missing module instead of crashing."""
    monkeypatch.setitem(factory.REMOTE_SCHEMES, "gopher", ("agent_tui.sources.no_such_backend", "open_x"))
    with pytest.raises(SourceError, match="no_such_backend is missing"):
        open_source("gopher://host/x", SourceOptions())


def test_bad_options_are_rejected() -> None:
    """Negative line counts and non-positive poll intervals are refused at construction."""
    with pytest.raises(SourceError):
        SourceOptions(lines=-1)
    with pytest.raises(SourceError):
        SourceOptions(poll_interval=0)


class SlowSource:
    """A source yielding one batch per tick, to check a fast source cannot starve it."""

    def __init__(self, name: str, count: int) -> None:
        self.name = name
        self.count = count
        self.closed = False

    async def _items(self) -> AsyncIterator[LineBatch | SourceStatus]:
        for n in range(self.count):
            await asyncio.sleep(0)
            yield LineBatch(self.name, [b"%d" % n])

    def stream(self) -> AsyncIterator[LineBatch | SourceStatus]:
        return self._items()

    async def close(self) -> None:
        self.closed = True


async def test_merged_interleaves_a_big_file_with_a_trickle(tmp_path: Path) -> None:
    """The trickle's batches are interleaved with the file's history, not queued behind all of it."""
    big = tmp_path / "big.jsonl"
    big.write_bytes(b"x" * 99 + b"\n" * 1 + (b"y" * 99 + b"\n") * 50_000)
    trickle = SlowSource("trickle", 5)
    order: list[str] = []
    async for item in merged([FileSource(str(big), SourceOptions(read_size=64 * 1024)), trickle]):
        if isinstance(item, LineBatch):
            order.append(item.source)
    assert order.count("trickle") == 5
    assert order.index("trickle") < order.index(str(big)) + 3
    assert order[-1] == str(big)
    assert trickle.closed


async def test_merged_closes_every_source_when_the_consumer_stops(tmp_path: Path) -> None:
    """Breaking out of the merged stream cancels pending reads and closes all sources."""
    log = tmp_path / "a.jsonl"
    log.write_bytes(b"1\n2\n")
    followed = FileSource(str(log), SourceOptions(follow=True, poll_interval=0.01))
    trickle = SlowSource("trickle", 1000)
    stream = merged([followed, trickle])
    async for item in stream:
        if isinstance(item, LineBatch) and item.source == str(log):
            break
    await stream.aclose()
    assert trickle.closed
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_merged_reports_each_source_state(tmp_path: Path) -> None:
    """Every source's status changes pass through under its own name, ending with DONE for each."""
    (tmp_path / "a.jsonl").write_bytes(b"1\n")
    (tmp_path / "b.jsonl").write_bytes(b"2\n")
    sources = [open_source(str(tmp_path / name), SourceOptions()) for name in ("a.jsonl", "b.jsonl")]
    statuses = [i for i in [x async for x in merged(sources)] if isinstance(i, SourceStatus)]
    last = {s.source: s.state for s in statuses}
    assert last == {source.name: SourceState.DONE for source in sources}


def test_lokis_scheme_opens_loki_over_https() -> None:
    """lokis:// is Loki over TLS, opened by the loki backend with an https base URL."""
    source = open_source('lokis://loki.example:443?query={service="casino"}', SourceOptions())
    assert type(source).__module__ == "agent_tui.sources.loki"
    assert source.base.startswith("https://")  # type: ignore[attr-defined]
