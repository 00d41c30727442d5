"""The ssh:// source against a real sshd on 127.0.0.1 started by the test (temporary keys, ephemeral port)."""

from __future__ import annotations

import getpass
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent_tui.sources.base import SourceState
from agent_tui.sources.http import Backoff
from agent_tui.sources.options import SourceOptions
from agent_tui.sources.ssh import SshSource
from tests.integration.remote.conftest import REPO, Collector, NumberedWriter, wait_for

FAST = Backoff(initial=0.1, factor=2.0, maximum=0.5)
AGENT_TUI = REPO / ".venv" / "bin" / "agent-tui"


@dataclass(frozen=True)
class Sshd:
    port: int
    identity: Path
    known_hosts: Path
    keys: Path

    def url(self, path: Path, **params: str) -> str:
        query = {
            "identity": str(self.identity),
            "known_hosts": str(self.known_hosts),
            "strict": "yes",
            **params,
        }
        text = "&".join(f"{k}={v}" for k, v in query.items())
        return f"ssh://{getpass.getuser()}@127.0.0.1:{self.port}{path}?{text}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    keys = tmp_path_factory.mktemp("sshd")
    for name in ("host", "client", "stranger"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)], check=True)
    (keys / "authorized_keys").write_bytes((keys / "client.pub").read_bytes())
    port = _free_port()
    config = keys / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {keys / 'host'}\n"
        f"AuthorizedKeysFile {keys / 'authorized_keys'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile none\n"
        "PermitRootLogin prohibit-password\nLogLevel ERROR\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"sshd did not start: {proc.stderr.read() if proc.stderr else b''!r}"
                ) from None
            time.sleep(0.05)
    host_key = (keys / "host.pub").read_text().split()
    (keys / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    yield Sshd(port, keys / "client", keys / "known_hosts", keys)
    proc.terminate()
    proc.wait(timeout=10)


async def test_serve_mode_resumes_exactly_after_the_ssh_connection_dies(sshd: Sshd, tmp_path: Path) -> None:
    """With agent-tui on the remote, killing ssh mid-stream resumes by cursor: every line once, in order."""
    writer = NumberedWriter(tmp_path, rotate_every=300)
    writer.write(400)
    source = SshSource(sshd.url(tmp_path, agent_tui=str(AGENT_TUI)), SourceOptions(follow=True), backoff=FAST)
    collector = Collector(source).start()
    try:
        await wait_for(lambda: len(collector.lines) >= 400, deadline=60, what="history over ssh")
        for _ in range(2):
            assert source.process is not None
            source.process.kill()
            writer.write(150)
            await wait_for(
                lambda: len(collector.lines) >= writer.written, deadline=60, what="lines after a kill"
            )
    finally:
        await collector.stop()
    assert collector.numbers() == list(range(700))
    assert sum(s.state is SourceState.RECONNECTING for s in collector.statuses) >= 2


async def test_tail_mode_reads_files_with_their_names_when_agent_tui_is_absent(
    sshd: Sshd, tmp_path: Path
) -> None:
    """Without agent-tui remotely, ``tail -v`` output splits back into per-file batches, blank lines kept."""
    (tmp_path / "a.jsonl").write_bytes(b'{"n":1}\n\n{"n":2}\n')
    (tmp_path / "b.log").write_bytes(b"plain\n")
    url = sshd.url(tmp_path, agent_tui="/nonexistent/agent-tui")
    collector = Collector(SshSource(url, SourceOptions(), backoff=FAST)).start()
    await wait_for(
        lambda: any(s.state is SourceState.DONE for s in collector.statuses), deadline=60, what="done"
    )
    await collector.stop()
    by_file = {b.source.rsplit("/", 1)[1]: b.lines for b in collector.batches}
    assert by_file == {"a.jsonl": [b'{"n":1}', b"", b'{"n":2}'], "b.log": [b"plain"]}
    assert "tail" in collector.statuses[0].reason


async def test_ssh_errors_surface_as_error_statuses(sshd: Sshd, tmp_path: Path) -> None:
    """A key the server does not accept ends the source with ssh's own 'Permission denied' message."""
    url = sshd.url(tmp_path, identity=str(sshd.keys / "stranger"))
    collector = Collector(SshSource(url, SourceOptions(follow=True), backoff=FAST)).start()
    await wait_for(lambda: bool(collector.statuses), deadline=60, what="a status")
    await collector.stop()
    assert collector.statuses[-1].state is SourceState.ERROR
    assert "Permission denied" in collector.statuses[-1].reason


async def test_unknown_host_key_is_refused_in_batch_mode(sshd: Sshd, tmp_path: Path) -> None:
    """With strict host key checking and an empty known_hosts, ssh refuses and the reason says so."""
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    url = sshd.url(tmp_path, known_hosts=str(empty))
    collector = Collector(SshSource(url, SourceOptions(), backoff=FAST)).start()
    await wait_for(lambda: bool(collector.statuses), deadline=60, what="a status")
    await collector.stop()
    assert collector.statuses[-1].state is SourceState.ERROR
    assert "Host key verification failed" in collector.statuses[-1].reason
    assert empty.read_text() == ""
