"""The sources factory opens the remote sources by URL scheme, end to end against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_tui.serve import ServeConfig
from agent_tui.sources.base import SourceState
from agent_tui.sources.factory import open_source
from agent_tui.sources.http import HttpSource
from agent_tui.sources.loki import LokiSource
from agent_tui.sources.options import SourceError, SourceOptions
from agent_tui.sources.ssh import SshSource
from tests.integration.remote.conftest import Collector, NumberedWriter, running_app, wait_for


def test_schemes_dispatch_to_the_remote_sources() -> None:
    """http(s)://, loki:// and ssh:// specs open this package's sources; malformed ones are SourceErrors."""
    options = SourceOptions()
    assert isinstance(open_source("https://box:8443/", options), HttpSource)
    assert isinstance(open_source('loki://loki:3100?query={service="x"}', options), LokiSource)
    assert isinstance(open_source("ssh://me@box/var/log/agents", options), SshSource)
    with pytest.raises(SourceError, match="query"):
        open_source("loki://loki:3100", options)


async def test_open_source_streams_from_a_real_serve(tmp_path: Path) -> None:
    """A source opened through the factory reads a served directory to completion."""
    NumberedWriter(tmp_path).write(25)
    async with running_app(ServeConfig(root=tmp_path)) as (base, _):
        collector = Collector(open_source(base + "/", SourceOptions())).start()
        await wait_for(lambda: any(s.state is SourceState.DONE for s in collector.statuses), what="done")
        await collector.stop()
    assert collector.numbers() == list(range(25))
