"""``agent-tui serve DIR``: expose a log directory read-only over HTTP(S), or over stdio for ssh."""

from __future__ import annotations

import argparse
import asyncio
import functools
import ipaddress
import os
import signal
import ssl
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from aiohttp import web

from agent_tui.cli.common import UsageError, add_field_argument, field_overrides
from agent_tui.serve.app import ServeConfig, make_app
from agent_tui.serve.gates import build_gates
from agent_tui.serve.stdio import serve_stdio
from agent_tui.shutdown import ExitGuard, run_until_signal

__all__ = ["add_arguments", "run"]

SHUTDOWN_S = 0.5
"""How long open streams get to finish when the server stops (SSE streams never finish on their own)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare serve's options."""
    parser.add_argument("directory", metavar="DIR", help="the log directory to expose (read-only)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8470, help="port (0 picks a free one; default 8470)")
    parser.add_argument("--token", help="bearer token every request must carry (env AGENT_TUI_TOKEN)")
    parser.add_argument("--tls-cert", metavar="PEM", help="certificate chain for HTTPS")
    parser.add_argument("--tls-key", metavar="PEM", help="private key for HTTPS")
    parser.add_argument("--heartbeat", type=float, default=5.0, help="seconds between idle heartbeats")
    parser.add_argument(
        "--stall-timeout", type=float, default=10.0, help="disconnect clients stalled this long"
    )
    parser.add_argument("--max-clients", type=int, default=256, help="concurrent streams allowed")
    add_field_argument(parser)
    stdio = parser.add_argument_group("--stdio mode (one stream on stdout, used over ssh)")
    stdio.add_argument("--stdio", action="store_true", help="write the NDJSON wire to stdout instead of HTTP")
    stdio.add_argument("--cursor", help="resume exactly after this cursor")
    stdio.add_argument("--lines", type=int, help="start with the last N lines of each source (0 = end)")
    stdio.add_argument("--since", help="start at records at or after this time (epoch s or RFC 3339)")
    stdio.add_argument("--filter", help="send only records matching this filter expression")
    stdio.add_argument("--follow", action="store_true", help="keep streaming as files grow")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; refuse unsafe configurations with exit code 2."""
    directory = Path(args.directory)
    if not directory.is_dir():
        print(f"agent-tui serve: not a directory: {directory}", file=sys.stderr)
        return 2
    token = args.token or os.environ.get("AGENT_TUI_TOKEN") or None
    try:
        overrides = field_overrides(args.field)
    except UsageError as err:
        print(f"agent-tui serve: {err}", file=sys.stderr)
        return 2
    config = ServeConfig(
        root=directory,
        token=token,
        heartbeat=args.heartbeat,
        stall_timeout=args.stall_timeout,
        max_clients=args.max_clients,
        gate_builder=functools.partial(build_gates, overrides=overrides) if overrides else build_gates,
    )
    if args.stdio:
        return _until_signal(serve_stdio(config, args))
    if not _is_loopback(args.host) and not token:
        print(
            f"agent-tui serve: refusing to bind {args.host} without a token "
            "(pass --token or set AGENT_TUI_TOKEN; 127.0.0.1 needs none)",
            file=sys.stderr,
        )
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        print("agent-tui serve: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    return _until_signal(_serve_http(config, args.host, args.port, context))


def _until_signal(main: Coroutine[Any, Any, int]) -> int:
    """Run ``main``; SIGHUP/SIGTERM stop it gracefully (exit 0), bounded by the exit guard's watchdog."""
    guard = ExitGuard()
    guard.install()
    code = run_until_signal(main, guard)
    guard.exit_if_stopped(0)
    return 0 if code is None else code


async def _serve_http(config: ServeConfig, host: str, port: int, context: ssl.SSLContext | None) -> int:
    runner = web.AppRunner(make_app(config), handle_signals=False, shutdown_timeout=SHUTDOWN_S)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=context)
    await site.start()
    scheme = "https" if context else "http"
    for address in runner.addresses:
        shown = f"[{address[0]}]" if ":" in str(address[0]) else address[0]
        print(
            f"agent-tui serve: {config.root} on {scheme}://{shown}:{address[1]}/ (read-only)", file=sys.stderr
        )
    sys.stderr.flush()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    try:
        await stop.wait()
    finally:
        # Also when SIGHUP/SIGTERM cancelled the wait: streams end, the watcher stops.
        await runner.cleanup()
    return 0
