"""One connected client's output: bounded buffering, stall detection, disconnect with a reason."""

from __future__ import annotations

import asyncio

from aiohttp import web

__all__ = ["ClientWriter", "Stalled"]


class Stalled(Exception):
    """The client stopped reading: its bounded buffer could not drain in time."""


class ClientWriter:
    """Writes wire bytes to one client; a write that cannot drain within ``stall_timeout`` raises Stalled.

    The transport's high-water mark is set to ``buffer_limit``, so the bytes held for this client stay
    below ``buffer_limit`` plus one step of records however slowly it reads; the reader of the log files
    simply waits (the data stays on disk), so a slow client costs neither the writer nor other clients.
    """

    def __init__(
        self, request: web.Request, response: web.StreamResponse, buffer_limit: int, stall_timeout: float
    ) -> None:
        self.response = response
        self.transport = request.transport
        self.peer = request.remote or "?"
        self.stall_timeout = stall_timeout
        self.sent = 0
        self.high_water = 0
        self.closing_reason = ""
        if self.transport is not None:
            self.transport.set_write_buffer_limits(high=buffer_limit, low=buffer_limit // 4)

    def buffered(self) -> int:
        """Bytes written to this client that the kernel has not taken yet."""
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    async def send(self, data: bytes) -> None:
        """Write and wait for room in the bounded buffer.

        Raises:
            Stalled: when the buffer stays full for ``stall_timeout`` seconds.
            ConnectionError: when the client went away.
        """
        if self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("client went away")
        try:
            await asyncio.wait_for(self.response.write(data), self.stall_timeout)
        except TimeoutError:
            raise Stalled(
                f"stalled: client did not read for {self.stall_timeout:g}s "
                f"({self.buffered()} bytes waiting); reconnect with the last cursor"
            ) from None
        self.sent += len(data)
        self.high_water = max(self.high_water, self.buffered())

    def disconnect(self, reason: str, farewell: bytes, grace: float = 2.0) -> None:
        """Queue a final reason behind the buffered bytes and close; abort if not delivered within ``grace``.

        The bytes go straight to the transport (framed as the last chunks of the chunked body), because the
        response writer is mid-drain when a client stalls.
        """
        self.closing_reason = reason
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self.response.chunked:
            farewell = f"{len(farewell):x}\r\n".encode() + farewell + b"\r\n0\r\n\r\n"
        transport.write(farewell)
        transport.close()
        asyncio.get_running_loop().call_later(grace, transport.abort)
