"""``ssh://user@host[:port]/path`` source: the system ssh client running ``agent-tui serve`` or ``tail -F``.

The remote side runs ``agent-tui serve PATH --stdio`` when that command exists there (exact resume by cursor
after a reconnect), else ``tail -v -F`` on the log files (a reconnect then starts at the end: lines written
while disconnected are reported as possibly missed). URL query (or ``options.headers``) settings:
``identity`` (key file), ``known_hosts`` (file), ``strict`` (``StrictHostKeyChecking``: yes, no,
accept-new), ``agent_tui`` (the remote command, default ``agent-tui``), ``mode`` (auto, serve, tail),
``connect_timeout`` (seconds). ssh always runs with ``BatchMode=yes``: it never prompts.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.sources.http import Backoff, WireDecoder, WireEnd
from agent_tui.sources.options import SourceError

if TYPE_CHECKING:
    from agent_tui.sources.options import SourceOptions

__all__ = ["SshSource", "open_ssh", "remote_command"]

_HEADER = re.compile(rb"^==> (.*) <==$")
_FATAL = ("Permission denied", "Host key verification failed", "Could not resolve hostname", "No such file")
_SETTINGS = ("identity", "known_hosts", "strict", "agent_tui", "mode", "connect_timeout")
_TAIL_SCRIPT = (
    'p={path}; if [ -d "$p" ]; then cd "$p" || exit 1; set --; '
    'for f in *.jsonl *.ndjson *.log *.json; do [ -f "$f" ] && set -- "$@" "$f"; done; '
    '[ $# -gt 0 ] || {{ echo "no log files in $p" >&2; exit 1; }}; else set -- "$p"; fi; '
    'exec tail -v -n {lines} {follow} -- "$@"'
)


def open_ssh(spec: str, options: SourceOptions) -> SshSource:
    """Open an ``ssh://`` spec (the factory's entry point)."""
    return SshSource(spec, options)


def remote_command(
    path: str, options: SourceOptions, *, agent_tui: str, mode: str, cursor: str | None
) -> str:
    """The shell command ssh runs remotely: ``agent-tui serve --stdio`` when available, else ``tail``."""
    serve = [agent_tui, "serve", path, "--stdio"]
    if options.follow:
        serve.append("--follow")
    if cursor:
        serve += ["--cursor", cursor]
    elif options.lines is not None:
        serve += ["--lines", str(options.lines)]
    if options.since is not None and not cursor:
        serve += ["--since", repr(options.since)]
    if options.filter_text:
        serve += ["--filter", options.filter_text]
    serve_cmd = "exec " + shlex.join(serve)
    resumed = cursor is not None
    lines = "0" if resumed or options.lines == 0 else ("+1" if options.lines is None else str(options.lines))
    tail_cmd = _TAIL_SCRIPT.format(path=shlex.quote(path), lines=lines, follow="-F" if options.follow else "")
    if mode == "serve":
        return serve_cmd
    if mode == "tail":
        return tail_cmd
    return f"if command -v {shlex.quote(agent_tui)} >/dev/null 2>&1; then {serve_cmd}; else {tail_cmd}; fi"


class SshSource:
    """Reads logs on a remote host through the system ``ssh`` client; reconnects with backoff."""

    def __init__(self, spec: str, options: SourceOptions, *, backoff: Backoff | None = None) -> None:
        parts = urlsplit(spec)
        if parts.scheme != "ssh" or not parts.hostname:
            raise SourceError(f"not an ssh:// URL: {spec!r}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        settings = {k: query.get(k) or options.headers.get(k) or "" for k in _SETTINGS}
        self.options = options
        self.backoff = backoff or Backoff()
        self.path = unquote(parts.path) or "."
        self.agent_tui = settings["agent_tui"] or "agent-tui"
        self.mode = settings["mode"] or "auto"
        target = f"{unquote(parts.username)}@{parts.hostname}" if parts.username else parts.hostname
        self.name = f"ssh://{parts.netloc}{parts.path}"
        self.argv = [
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            "ServerAliveInterval=5",
            "-o",
            "ServerAliveCountMax=3",
        ]
        self.argv += ["-o", f"ConnectTimeout={settings['connect_timeout'] or 10}"]
        if parts.port:
            self.argv += ["-p", str(parts.port)]
        if settings["identity"]:
            self.argv += ["-i", settings["identity"], "-o", "IdentitiesOnly=yes"]
        if settings["known_hosts"]:
            self.argv += ["-o", f"UserKnownHostsFile={settings['known_hosts']}"]
        if settings["strict"]:
            self.argv += ["-o", f"StrictHostKeyChecking={settings['strict']}"]
        self.argv += ["-T", target, "--"]
        self.decoder = WireDecoder(self.name.rstrip("/") + "/")
        self.process: asyncio.subprocess.Process | None = None
        self._closed = False
        self.tail_mode = False

    async def stream(self) -> AsyncIterator[LineBatch | SourceStatus]:
        """Run ssh, decode its output, and restart it (resuming when the remote is agent-tui) on failure."""
        attempt = 0
        while not self._closed:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv,
                self._command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            stderr_task = asyncio.ensure_future(_read_tail(self.process.stderr))
            received = False
            async for item in self._read(self.process):
                received = True
                attempt = 0
                yield item
                if isinstance(item, SourceStatus) and item.state is SourceState.DONE:
                    await self._stop_process()
                    return
            code = await self.process.wait()
            errors = (await stderr_task).strip()
            if self._closed:
                return
            if code == 0 and not self.options.follow:
                yield SourceStatus(self.name, SourceState.DONE, "complete")
                return
            reason = errors.splitlines()[-1] if errors else f"ssh exited with status {code}"
            if any(marker in errors for marker in _FATAL) and not received:
                yield SourceStatus(self.name, SourceState.ERROR, f"ssh: {reason}")
                return
            delay = self.backoff.delay(attempt)
            attempt += 1
            yield SourceStatus(
                self.name, SourceState.RECONNECTING, f"ssh: {reason}; retrying in {delay:.1f}s"
            )
            await asyncio.sleep(delay)

    def _command(self) -> str:
        if self.tail_mode:
            return remote_command(self.path, self.options, agent_tui=self.agent_tui, mode="tail", cursor="")
        cursor = self.decoder.cursor() if self.decoder.positions else None
        return remote_command(
            self.path, self.options, agent_tui=self.agent_tui, mode=self.mode, cursor=cursor
        )

    async def _read(self, process: asyncio.subprocess.Process) -> AsyncIterator[LineBatch | SourceStatus]:
        assert process.stdout is not None
        self.decoder.reset()
        first = await process.stdout.readline()
        if not first:
            return
        if first.startswith(b'{"type":"start"'):
            async for item in self._read_wire(process.stdout, first):
                yield item
            return
        tail_note = "remote agent-tui not found; reading with tail"
        if self.tail_mode:
            tail_note += " (reconnected at the end: lines written meanwhile may be missed)"
        self.tail_mode = True
        yield SourceStatus(self.name, SourceState.CONNECTED, tail_note)
        async for batch in self._read_tail_output(process.stdout, first):
            yield batch

    async def _read_wire(
        self, stdout: asyncio.StreamReader, first: bytes
    ) -> AsyncIterator[LineBatch | SourceStatus]:
        data = first
        while data:
            for item in self.decoder.feed(data):
                if isinstance(item, WireEnd):
                    return
                yield item
            data = await stdout.read(1 << 16)

    async def _read_tail_output(self, stdout: asyncio.StreamReader, first: bytes) -> AsyncIterator[LineBatch]:
        current = self.name
        blank_pending = False
        carry = first
        while True:
            cut = carry.rfind(b"\n")
            lines = carry[:cut].split(b"\n") if cut >= 0 else []
            carry = carry[cut + 1 :] if cut >= 0 else carry
            batch: list[bytes] = []
            for line in lines:
                header = _HEADER.match(line)
                if header is not None:
                    if batch:
                        yield LineBatch(current, batch)
                        batch = []
                    blank_pending = False
                    current = self.name.rstrip("/") + "/" + header.group(1).decode("utf-8", "replace")
                    continue
                if blank_pending:
                    batch.append(b"")
                blank_pending = line == b""
                if not blank_pending:
                    batch.append(line)
            if batch:
                yield LineBatch(current, batch)
            data = await stdout.read(1 << 16)
            if not data:
                return
            carry += data

    async def _stop_process(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def close(self) -> None:
        """Stop reading and end the ssh process."""
        self._closed = True
        with contextlib.suppress(ProcessLookupError):
            await self._stop_process()


async def _read_tail(stream: asyncio.StreamReader | None, keep: int = 4096) -> str:
    """Everything ssh wrote to stderr, keeping the last ``keep`` bytes."""
    if stream is None:
        return ""
    kept = b""
    while chunk := await stream.read(4096):
        kept = (kept + chunk)[-keep:]
    return kept.decode("utf-8", "replace")
