"""A minimal asyncio client for the gate event stream, for tests and bench/push.py.

Hundreds of streams from one process with nothing to install: a raw HTTP/1.1 GET
on an asyncio connection, the chunked body decoded, `event: gate` blocks parsed.
Every read is bounded by the caller (asyncio.wait_for / timeout arguments).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GateStream:
    """One open stream: its status, headers and the events received so far."""

    status: int
    headers: dict[str, str]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    events: list[dict[str, Any]] = field(default_factory=list)
    # time.monotonic() at which each event's block was complete
    received_at: list[float] = field(default_factory=list)
    closed: bool = False
    _buffer: str = ""
    _body: bytes = b""

    async def next_event(self) -> dict[str, Any] | None:
        """The next `event: gate` payload, or None when the server ended the stream."""
        while True:
            if "\n\n" in self._buffer:
                block, self._buffer = self._buffer.split("\n\n", 1)
                if block.startswith("event: gate"):
                    payload = json.loads(block.split("data: ", 1)[1])
                    self.events.append(payload)
                    self.received_at.append(time.monotonic())
                    return payload
                continue
            chunk = await self._chunk()
            if chunk is None:
                self.closed = True
                return None
            self._buffer += chunk.decode()

    async def _chunk(self) -> bytes | None:
        if self.headers.get("transfer-encoding", "") != "chunked":
            data = await self.reader.read(65536)
            return data or None
        size_line = await self.reader.readline()
        if not size_line:
            return None
        size = int(size_line.strip() or b"0", 16)
        if size == 0:
            return None
        data = await self.reader.readexactly(size + 2)
        return data[:-2]

    async def read_body(self) -> str:
        """The whole (non-streamed) body: for refusals (401, 429, 503...)."""
        length = int(self.headers.get("content-length", "0"))
        return (await self.reader.readexactly(length)).decode() if length else ""

    def close(self) -> None:
        self.writer.close()


async def open_stream(host: str, port: int, slug: str, token: str) -> GateStream:
    """Send the stream request and read the status line and headers."""
    reader, writer = await asyncio.open_connection(host, port)
    path = f"/api/v1/environments/{slug}/gate/stream"
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return GateStream(status=status, headers=headers, reader=reader, writer=writer)
