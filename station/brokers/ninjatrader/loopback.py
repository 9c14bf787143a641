"""A loopback stand-in for the NinjaTrader receiver that listens on a port and reads Station's lines.

It speaks the real wire format (one JSON object and `\\n` per line), keeps what it
receives in order, and drops a line whose `id` it has seen, as a receiver should.
Tests and benchmarks use it to check delivery, order, duplicates and latency; it
can go down and come back, break a connection mid-stream, or freeze (stop reading
while connected, as a hung NinjaTrader does). With `answers=True` it answers as the
add-on does: an ack per line, then the order `submitted`, `working` and `filled`
at `fill_price`, then the account's position.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from decimal import Decimal
from typing import Any, Callable


class LoopbackNinjaTrader:
    """Listens on 127.0.0.1:`port` (0: a free one) and collects the lines it is sent."""

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1",
                 on_line: Callable[[dict[str, Any], float], None] | None = None, answers: bool = False,
                 fill_price: Decimal = Decimal("5000.25"), account: str = "Sim101") -> None:
        self.host = host
        self.port = port
        self.on_line = on_line
        self.answers = answers
        self.fill_price = fill_price
        self.account = account
        self.lines: list[dict[str, Any]] = []  # first arrival of each id, in arrival order
        self.raw: list[bytes] = []  # every line as received, duplicates included
        self.received_at: dict[str, float] = {}  # id -> time.perf_counter() at first arrival
        self.duplicates: list[str] = []
        self.errors: list[str] = []
        self.accepted = 0
        self.break_after: int | None = None  # reset a connection after this many new lines on it
        self.positions: dict[str, int] = {}  # ticker -> signed quantity filled here
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._serving: set[asyncio.Task] = set()
        self._arrived = asyncio.Event()
        self._reading = asyncio.Event()
        self._reading.set()

    @property
    def ids(self) -> list[str]:
        return [line["id"] for line in self.lines]

    @property
    def connected(self) -> int:
        """Connections open now."""
        return len(self._writers)

    async def start(self) -> int:
        """Listen (again); returns the port."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self, *, abort: bool = False) -> None:
        """Stop listening and close every connection (abort: reset them, as a crash would)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.thaw()
        await self.drop_connections(abort=abort)
        if self._serving:
            await asyncio.wait(self._serving, timeout=2)

    def freeze(self) -> None:
        """Stop reading (the connections stay open; what Station writes piles up unread)."""
        self._reading.clear()

    def thaw(self) -> None:
        """Read again."""
        self._reading.set()

    async def drop_connections(self, *, abort: bool = False) -> None:
        """Close the open connections but keep listening (abort: reset them, whatever is unread)."""
        for writer in list(self._writers):
            if abort:
                _reset(writer)
            else:
                writer.close()
        for writer in list(self._writers):
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self._writers.clear()

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until `count` distinct lines arrived; returns them (TimeoutError says how many did)."""
        deadline = time.monotonic() + timeout
        while len(self.lines) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(self.lines)} of {count} lines arrived on port {self.port}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except asyncio.TimeoutError:
                pass
        return self.lines[:count]

    async def wait_connected(self, timeout: float = 5.0) -> None:
        """Wait until a client is connected."""
        deadline = time.monotonic() + timeout
        while not self._writers:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing connected to port {self.port}")
            await asyncio.sleep(0.01)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._writers.add(writer)
        task = asyncio.current_task()
        self._serving.add(task)
        on_this_connection = 0
        try:
            while True:
                await self._reading.wait()
                raw = await reader.readline()
                if not raw:
                    break
                if not raw.endswith(b"\n"):
                    self.errors.append(f"partial line at close: {raw!r}")
                    break
                if not self._reading.is_set():  # it froze while this line came in: not taken until it thaws
                    await self._reading.wait()
                if writer.is_closing():  # reset meanwhile: what is read now would be lost with the process
                    break
                new = self._receive(raw)
                if self.answers:
                    self._answer(writer, raw, new)
                if new:
                    on_this_connection += 1
                if self.break_after is not None and on_this_connection >= self.break_after:
                    _reset(writer)
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            self._serving.discard(task)
            writer.close()

    def _receive(self, raw: bytes) -> bool:
        """Record one line; True if it is new."""
        now = time.perf_counter()
        self.raw.append(raw)
        try:
            line = json.loads(raw)
            line_id = line["id"]
        except (ValueError, KeyError, TypeError) as exc:
            self.errors.append(f"not a line with an id ({exc}): {raw!r}")
            return False
        if line_id in self.received_at:
            self.duplicates.append(line_id)
            return False
        self.received_at[line_id] = now
        self.lines.append(line)
        self._arrived.set()
        if self.on_line is not None:
            self.on_line(line, now)
        return True

    def _answer(self, writer: asyncio.StreamWriter, raw: bytes, new: bool) -> None:
        """The add-on's replies to one line: ack; for a new one its order's life and the position."""
        try:
            line = json.loads(raw)
        except ValueError:
            return
        replies: list[dict[str, Any]] = [{"type": "ack", "id": line["id"]}]
        if new:
            qty = int(line["qty"])
            price = float(self.fill_price)
            sign = 1 if line["action"] == "buy" else -1
            held = self.positions[line["ticker"]] = self.positions.get(line["ticker"], 0) + sign * qty
            for status, filled, avg in (("submitted", 0, None), ("working", 0, None), ("filled", qty, price)):
                replies.append({"type": "order", "id": line["id"], "status": status, "filled_qty": filled,
                                "avg_price": avg, "reason": None})
            replies.append({"type": "position", "account": self.account, "instrument": line["ticker"], "qty": held,
                            "avg_price": price if held else None})
        writer.write(b"".join(json.dumps(reply).encode() + b"\n" for reply in replies))


def _reset(writer: asyncio.StreamWriter) -> None:
    """Drop a connection as a crashing process does: a reset, whatever was left unread."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
