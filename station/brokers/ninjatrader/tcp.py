"""A NinjaTrader TCP port: one connection to 127.0.0.1:PORT, one JSON line per order, in order.

The oms hands lines over only while the port is CONNECTED and keeps the others
waiting; this broker never drops one it was handed. Lines go out in the order
they were handed over, through one writer task. A line is reported SUBMITTED
once written to the socket. When the connection breaks, the lines NinjaTrader
may not have read are put back at the head of the queue and written again
after the reconnect, before CONNECTED is announced (so they stay ahead of what
waited in the oms); the line's `id` lets the strategy drop one it already has.
What is re-sent is decided by `lines_to_resend`: after a clean close (the peer
read everything and closed) only the bytes the peer's TCP never acknowledged;
after a reset or a write error, also everything written in the last
`resend_window_s` seconds, since a peer that dies may not have read them.
Lines waiting here when Station stops are kept in `<data dir>/ninjatrader/`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import struct
import sys
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from station.backoff import Backoff
from station.brokers.protocol import BrokerCapabilities, BrokerError, BrokerReports
from station.brokers.ninjatrader.files import run_file_job, write_atomic
from station.brokers.ninjatrader.parsing import port_line
from station.bus import Bus
from station.domain.destinations import port_destination_name
from station.domain.enums import ConnectionState, OrderStatus
from station.domain.events import ConnectionChanged, OrderReported
from station.domain.orders import OrderRequest
from station.domain.timeutil import utc_now

log = logging.getLogger("station.ninjatrader")

RESEND_WINDOW_S = 2.0
RECONNECT_INITIAL_S, RECONNECT_MAX_S = 0.1, 2.0
RECENT_BYTES = 4 << 20  # at least this much of the latest output is kept for re-sending
DELIVERED_MEMORY = 20_000


@dataclass(frozen=True, slots=True)
class Line:
    """One order's bytes for the port."""

    client_order_id: str
    data: bytes


@dataclass(slots=True)
class _Link:
    """One live connection and what was written on it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    opened: float = field(default_factory=time.monotonic)
    written: int = 0
    recent: deque = field(default_factory=deque)  # (monotonic time, end offset, Line)
    inflight: list = field(default_factory=list)
    lost: str | None = None
    clean_close: bool = False


def unconfirmed_bytes(writer: asyncio.StreamWriter) -> int | None:
    """Bytes written but not acknowledged by the peer's TCP (Linux SIOCOUTQ); None where unknown."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import fcntl
        import termios

        sock = writer.get_extra_info("socket")
        if sock is None or sock.fileno() < 0:
            return None
        queued = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
        return queued + writer.transport.get_write_buffer_size()
    except (OSError, ImportError):
        return None


def lines_to_resend(recent, written: int, unconfirmed: int | None, clean_close: bool,
                    now: float, window: float) -> list[Line]:
    """The lines of a lost connection to write again, oldest first.

    Always those beyond the acknowledged bytes; unless the peer closed cleanly and
    the kernel told us what it acknowledged, also every line of the last `window` s.
    """
    cutoff = written - unconfirmed if unconfirmed is not None else written
    trust_acks = clean_close and unconfirmed is not None
    return [line for at, end, line in recent
            if end > cutoff or (not trust_acks and now - at <= window)]


class TcpPortBroker:
    """Destination `port:<PORT>`: JSON lines to the NinjaTrader strategy listening on that port."""

    capabilities = BrokerCapabilities(drops_repeats=True, reports_fills=False,
                                      notes=("a line is submitted once written; ports report no fills",))

    def __init__(self, port: int, bus: Bus, *, host: str = "127.0.0.1", data_dir: Path | None = None,
                 backoff: Backoff | None = None, resend_window_s: float = RESEND_WINDOW_S,
                 connect_timeout_s: float = 3.0) -> None:
        if not 1 <= int(port) <= 65535:
            raise ValueError(f"port {port} is not between 1 and 65535")
        self.port = int(port)
        self.host = host
        self.name = port_destination_name(self.port)
        self.bus = bus
        self.state = ConnectionState.DISCONNECTED
        self.detail = ""
        self.last_delivery = None
        self.resend_window_s = resend_window_s
        self.connect_timeout_s = connect_timeout_s
        self._backoff = backoff or Backoff(RECONNECT_INITIAL_S, RECONNECT_MAX_S)
        self._outbox: deque[Line] = deque()
        self._queued: set[str] = set()
        self._delivered: OrderedDict[str, datetime] = OrderedDict()  # client order id -> when first written
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._outbox_path = data_dir / "ninjatrader" / f"port-{self.port}.outbox.jsonl" if data_dir else None
        self._persisted = False

    def __repr__(self) -> str:
        return f"TcpPortBroker({self.host}:{self.port}, {self.state}, {len(self._outbox)} waiting)"

    @property
    def waiting(self) -> int:
        """Lines handed over (or to re-send) and not yet written."""
        return len(self._outbox)

    # ---- Broker protocol ----------------------------------------------------------------------

    async def start(self) -> None:
        """Load lines kept from the last run, then connect in the background."""
        self._load_outbox()
        self._set_state(ConnectionState.CONNECTING, f"{self.host}:{self.port}")
        self._task = asyncio.create_task(self._run(), name=f"ninjatrader {self.name}")

    async def stop(self) -> None:
        """Close the connection; keep lines not yet written for the next start."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._persist_outbox()
        self._set_state(ConnectionState.DISCONNECTED, "stopped")

    async def submit(self, request: OrderRequest) -> None:
        """Queue the line for `request`; SUBMITTED is reported once it is written."""
        cid = request.client_order_id
        try:
            data = port_line(request)
        except (ValueError, TypeError) as exc:
            raise BrokerError(f"cannot build the NinjaTrader line for {cid}: {exc}") from None
        if cid in self._queued:
            return  # already waiting here (kept from the last run, or handed over twice)
        if cid in self._delivered:
            self._report(cid)  # written before: say so again rather than write a duplicate
            return
        self._outbox.append(Line(cid, data))
        self._queued.add(cid)
        self._wake.set()

    async def cancel(self, client_order_id: str) -> None:
        """A line still waiting here is withdrawn (CANCELLED); a written one cannot be."""
        for line in self._outbox:
            if line.client_order_id == client_order_id and client_order_id not in self._delivered:
                self._outbox.remove(line)
                self._queued.discard(client_order_id)
                self.bus.publish(OrderReported(self.name, client_order_id, OrderStatus.CANCELLED,
                                               reason="withdrawn before it was written to the port"))
                return
        raise BrokerError(f"{client_order_id} was already written to {self.name}; a port line cannot be cancelled")

    async def replace(self, request: OrderRequest) -> None:
        """A line cannot be changed once handed over (the strategy on the port trades it on its own)."""
        raise BrokerError(f"{self.name} cannot change {request.client_order_id}: a port line is final once handed over")

    async def reports(self, since: datetime) -> BrokerReports:
        """The lines written since `since` (SUBMITTED, as when they were written); a port reports no fills."""
        written = tuple(OrderReported(self.name, cid, OrderStatus.SUBMITTED, at=at)
                        for cid, at in self._delivered.items() if at >= since)
        return BrokerReports(self.name, since, orders=written)

    # ---- connection loop -------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self._connect_and_serve()
            except Exception as exc:  # a bug must not silently end the port: say so and go on
                log.exception("%s: unexpected failure", self.name)
                self._set_state(ConnectionState.ERROR, f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self._backoff.next())

    async def _connect_and_serve(self) -> None:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.connect_timeout_s)
        except (OSError, asyncio.TimeoutError) as exc:
            self._set_state(ConnectionState.DISCONNECTED, f"{_describe(exc)}; retrying")
            return
        link = _Link(reader, writer)
        reason = await self._serve(link)
        if time.monotonic() - link.opened >= 1.0:
            self._backoff.reset()
        log.warning("%s: %s; %d line(s) to write after the reconnect", self.name, reason, len(self._outbox))
        self._set_state(ConnectionState.DISCONNECTED, f"{reason}; reconnecting")
        await self._persist_outbox()

    async def _serve(self, link: _Link) -> str:
        sock = link.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        watcher = asyncio.create_task(self._watch_peer(link))
        try:
            await self._flush(link)  # lines kept from a lost connection go first
            if link.lost is None:
                self._set_state(ConnectionState.CONNECTED, f"{self.host}:{self.port}")
            while link.lost is None:
                if not self._outbox:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                await self._flush(link)
        except (ConnectionError, OSError) as exc:
            link.lost = link.lost or f"write failed ({_describe(exc)})"
        except asyncio.CancelledError:  # stopping: the peer is fine, close gracefully
            link.clean_close = True
            raise
        finally:
            watcher.cancel()
            self._requeue(link)
            if link.lost is None:
                link.writer.close()  # sends what is buffered, then FIN
            else:
                link.writer.transport.abort()
        return link.lost or "connection closed"

    async def _watch_peer(self, link: _Link) -> None:
        """Reads (and ignores) what the peer sends, to notice at once when it goes away."""
        try:
            while True:
                if not await link.reader.read(65536):
                    link.clean_close = True
                    link.lost = link.lost or "closed by NinjaTrader"
                    return
        except (ConnectionError, OSError) as exc:
            link.lost = link.lost or f"connection lost ({_describe(exc)})"
        finally:
            self._wake.set()

    async def _flush(self, link: _Link) -> None:
        batch = list(self._outbox)
        self._outbox.clear()
        link.inflight = batch
        ends = []
        for line in batch:
            link.writer.write(line.data)
            link.written += len(line.data)
            ends.append(link.written)
        await link.writer.drain()
        link.inflight = []
        now = time.monotonic()
        for line, end in zip(batch, ends):
            link.recent.append((now, end, line))
            self._queued.discard(line.client_order_id)
            if line.client_order_id not in self._delivered:
                self._remember(line.client_order_id)
                self._report(line.client_order_id)
        if batch:
            self.last_delivery = utc_now()
        while link.recent and now - link.recent[0][0] > self.resend_window_s \
                and link.recent[0][1] <= link.written - RECENT_BYTES:
            link.recent.popleft()
        if self._persisted and not self._outbox:
            await self._persist_outbox()

    def _requeue(self, link: _Link) -> None:
        """Put back what NinjaTrader may not have read, in the order it was first written."""
        unconfirmed = unconfirmed_bytes(link.writer)
        if unconfirmed is None and link.lost is None:  # our own stop: at least what is still buffered
            unconfirmed = link.writer.transport.get_write_buffer_size()
        again = lines_to_resend(link.recent, link.written, unconfirmed, link.clean_close,
                                time.monotonic(), self.resend_window_s)
        back = again + link.inflight
        for line in back:
            self._queued.add(line.client_order_id)
        self._outbox.extendleft(reversed(back))
        link.recent.clear()
        link.inflight = []

    # ---- bookkeeping ------------------------------------------------------------------------

    def _remember(self, client_order_id: str) -> None:
        self._delivered[client_order_id] = utc_now()
        if len(self._delivered) > DELIVERED_MEMORY:
            self._delivered.popitem(last=False)

    def _report(self, client_order_id: str) -> None:
        self.bus.publish(OrderReported(self.name, client_order_id, OrderStatus.SUBMITTED))

    def _set_state(self, state: ConnectionState, detail: str = "") -> None:
        if state is self.state and detail == self.detail:
            return
        self.state, self.detail = state, detail
        log.info("%s %s%s", self.name, state, f" ({detail})" if detail else "")
        self.bus.publish(ConnectionChanged(self.name, "broker", state, detail))

    def _load_outbox(self) -> None:
        if self._outbox_path is None or not self._outbox_path.exists():
            return
        for raw in self._outbox_path.read_bytes().splitlines():
            try:
                cid = str(json.loads(raw)["id"])
            except (ValueError, KeyError, TypeError):
                log.error("%s: skipping an unreadable kept line in %s", self.name, self._outbox_path)
                continue
            if cid not in self._queued:
                self._outbox.append(Line(cid, raw + b"\n"))
                self._queued.add(cid)
        self._persisted = True
        log.info("%s: %d line(s) kept from the last run", self.name, len(self._outbox))

    async def _persist_outbox(self) -> None:
        if self._outbox_path is None:
            return
        data = b"".join(line.data for line in self._outbox)
        if data:
            self._persisted = True
            await run_file_job(write_atomic, self._outbox_path, data)
        elif self._persisted:
            self._persisted = False
            await run_file_job(_unlink, self._outbox_path)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "connect timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
