"""A NinjaTrader TCP port: one connection to 127.0.0.1:PORT, one JSON line per order, replies read back.

The oms hands lines over only while the port is CONNECTED and keeps the others
waiting; this broker never drops one it was handed. Lines go out in the order
they were handed over, through one writer task, each written once while
connected and reported SUBMITTED once written to the socket.

What the receiver answers on the same connection (the add-on shipped in
`resources/ninjatrader/`) is read by `_read_replies`: acks prove lines read,
order replies become order states and fills, position replies positions
(`port_replies.PortReplies`). A receiver that answers anything is one that
reports fills, and the port says so (`capabilities`, announced again as
`DestinationBuilt`, and remembered across restarts); one that never answers (a
trader's own strategy) leaves its orders `submitted`, as before.

When the connection ends, the lines the receiver may not have read are put back
at the head of the queue and written again after the reconnect, before CONNECTED
is announced (so they stay ahead of what waited in the oms); which lines is
`sent_lines.SentJournal`'s rule, the same on every OS. Lines waiting here when
Station stops, and lines a frozen receiver leaves unacknowledged, are kept in
`<data dir>/ninjatrader/` (`kept_lines`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from station.backoff import Backoff
from station.brokers.ninjatrader.kept_lines import KeptLines
from station.brokers.ninjatrader.parsing import port_line
from station.brokers.ninjatrader.port_replies import ANSWERING, SILENT, PortReplies
from station.brokers.ninjatrader.replies import AckReply, BadReply, OrderReply, parse_reply
from station.brokers.ninjatrader.sent_lines import Line, SentJournal, unconfirmed_bytes
from station.brokers.protocol import BrokerError, BrokerReports
from station.brokers.registry import PORT_TYPE
from station.bus import Bus
from station.domain.destinations import port_destination_name
from station.domain.enums import ConnectionState, OrderStatus
from station.domain.events import ConnectionChanged, DestinationBuilt, OrderReported
from station.domain.orders import OrderRequest
from station.domain.timeutil import utc_now
from station.queries_brokers import OrderBook

__all__ = ["Line", "TcpPortBroker", "SILENT", "ANSWERING"]

log = logging.getLogger("station.ninjatrader")

RESEND_WINDOW_S = 600.0
RECONNECT_INITIAL_S, RECONNECT_MAX_S = 0.1, 2.0
SETTLE_S = 0.25  # at a stop, how long to wait for acks of lines just written (fewer repeats after the restart)
DELIVERED_MEMORY = 20_000
PRUNE_EVERY_S = 1.0  # how often the re-send window forgets lines older than it
MAX_BAD_REPLIES_LOGGED = 5

@dataclass(slots=True)
class _Link:
    """One live connection and what happened on it."""

    number: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    opened: float
    written: int = 0
    lost: str | None = None
    clean_close: bool = False  # the peer closed (FIN), rather than reset or our own stop


class TcpPortBroker:
    """Destination `port:<PORT>`: JSON lines to the NinjaTrader receiver listening on that port, replies back."""

    def __init__(self, port: int, bus: Bus, *, host: str = "127.0.0.1", data_dir: Path | None = None,
                 backoff: Backoff | None = None, resend_window_s: float | Callable[[], float] = RESEND_WINDOW_S,
                 connect_timeout_s: float = 3.0, orders: OrderBook | None = None) -> None:
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
        self._pruned_at = float("-inf")
        self.connect_timeout_s = connect_timeout_s
        self.replies = PortReplies(self.name, bus, orders)
        self.journal = SentJournal()
        self.reply_listener: Callable[[object], None] | None = None  # sees every reply read (benchmarks)
        self._backoff = backoff or Backoff(RECONNECT_INITIAL_S, RECONNECT_MAX_S)
        self._outbox: deque[Line] = deque()
        self._queued: set[str] = set()
        self._delivered: OrderedDict[str, datetime] = OrderedDict()  # client order id -> when first written
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._link: _Link | None = None
        self._connections = 0
        self._bad_replies = 0
        self._marking: asyncio.Future | None = None
        folder = data_dir / "ninjatrader" if data_dir else None
        self.kept = KeptLines(folder, self.port)
        self.answers = self.kept.remembers_answers()
        self.capabilities = ANSWERING if self.answers else SILENT
        self.journal.acknowledging = self.answers  # the add-on acknowledges every line it reads

    def __repr__(self) -> str:
        return f"TcpPortBroker({self.host}:{self.port}, {self.state}, {len(self._outbox)} waiting)"

    @property
    def waiting(self) -> int:
        """Lines handed over (or to re-send) and not yet written."""
        return len(self._outbox)

    @property
    def window_s(self) -> float:
        """The re-send window for a receiver that never acknowledges (the `ninjatrader` setting)."""
        value = self.resend_window_s
        return float(value() if callable(value) else value)

    # ---- Broker protocol ----------------------------------------------------------------------

    async def start(self) -> None:
        """Load lines kept from the last run, then connect in the background."""
        for line in self.kept.load():
            if line.client_order_id not in self._queued:
                self._outbox.append(line)
                self._queued.add(line.client_order_id)
        self._set_state(ConnectionState.CONNECTING, f"{self.host}:{self.port}")
        self._task = asyncio.create_task(self._run(), name=f"ninjatrader {self.name}")

    async def stop(self) -> None:
        """Close the connection; keep what is not yet written, or not acknowledged, for the next start."""
        if self._task is not None:
            await self._settle()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._persist_outbox()
        if self._marking is not None:
            await self._marking
        self._set_state(ConnectionState.DISCONNECTED, "stopped")

    async def submit(self, request: OrderRequest) -> None:
        """Queue the line for `request`; SUBMITTED is reported once it is written."""
        cid = request.client_order_id
        try:
            data = port_line(request)
        except (ValueError, TypeError) as exc:
            raise BrokerError(f"cannot build the NinjaTrader line for {cid}: {exc}") from None
        self.replies.remember(request)
        if cid in self._queued:
            return  # already waiting here (kept from the last run, or handed over twice)
        if cid in self._delivered:
            self._report(cid)  # written before: say so again rather than write a duplicate
            return
        self._outbox.append(Line(cid, data))
        self._queued.add(cid)
        self._wake.set()

    async def submit_bracket(self, entry: OrderRequest, exits: tuple[OrderRequest, ...]) -> None:
        """An entry with its protective exits: its line carries them (CONTRACT.md) and the receiver works them;
        what it says of `<entry id>-sl`, `-tp`, `-trail` is said of these exits."""
        self.replies.attach_exits(entry, exits)
        await self.submit(entry)

    async def cancel(self, client_order_id: str) -> None:
        """A line still waiting here is withdrawn (CANCELLED); a written one cannot be (the receiver trades it;
        an alert's `cancel` line cancels there)."""
        for line in self._outbox:
            if line.client_order_id == client_order_id and client_order_id not in self._delivered:
                self._outbox.remove(line)
                self._queued.discard(client_order_id)
                self.bus.publish(OrderReported(self.name, client_order_id, OrderStatus.CANCELLED,
                                               reason="withdrawn before it was written to the port"))
                return
        raise BrokerError(f"{client_order_id} was already written to {self.name}; a port line cannot be cancelled")

    async def replace(self, request: OrderRequest) -> None:
        """A line cannot be changed once handed over (the receiver on the port trades it on its own)."""
        raise BrokerError(f"{self.name} cannot change {request.client_order_id}: a port line is final once handed over")

    async def reports(self, since: datetime) -> BrokerReports:
        """What this port heard since `since`: the latest status of each order its receiver spoke of, the others
        SUBMITTED as when they were written; the fills heard; the positions last heard."""
        heard = {report.client_order_id: report for report in self.replies.orders_since(since)}
        written = [OrderReported(self.name, cid, OrderStatus.SUBMITTED, at=at)
                   for cid, at in self._delivered.items() if at >= since and cid not in heard]
        return BrokerReports(self.name, since, orders=tuple(written) + tuple(heard.values()),
                             fills=tuple(self.replies.fills_since(since)),
                             positions=tuple(self.replies.positions.values()))

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
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that meets a refused
            # connection, and stop() would then wait for a reconnect loop that never ends
            async with asyncio.timeout(self.connect_timeout_s):
                reader, writer = await asyncio.open_connection(self.host, self.port)
        except (OSError, TimeoutError) as exc:
            # down while Station wants it up: red, like the dock's row (issue 17)
            self._set_state(ConnectionState.ERROR, f"{_describe(exc)}; retrying")
            return
        self._connections += 1
        link = _Link(self._connections, reader, writer, time.monotonic())
        reason = await self._serve(link)
        if time.monotonic() - link.opened >= 1.0:
            self._backoff.reset()
        log.warning("%s: %s; %d line(s) to write after the reconnect", self.name, reason, len(self._outbox))
        self._set_state(ConnectionState.ERROR, f"{reason}; reconnecting")
        await self._persist_outbox()

    async def _serve(self, link: _Link) -> str:
        sock = link.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._link = link
        replies = asyncio.create_task(self._read_replies(link))
        guard = asyncio.create_task(self.kept.guard_unacknowledged(self.journal))
        try:
            await self._flush(link)  # lines kept from a lost connection go first
            if link.lost is None:
                self._set_state(ConnectionState.CONNECTED, self._connected_detail())
            while link.lost is None:
                if not self._outbox:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                await self._flush(link)
        except (ConnectionError, OSError) as exc:
            link.lost = link.lost or f"write failed ({_describe(exc)})"
        finally:
            self._link = None
            replies.cancel()
            guard.cancel()
            self._requeue(link)
            if link.lost is None:
                link.writer.close()  # our own stop: sends what is buffered, then FIN
            else:
                link.writer.transport.abort()
        return link.lost or "connection closed"

    async def _flush(self, link: _Link) -> None:
        batch = list(self._outbox)
        self._outbox.clear()
        now = time.monotonic()
        if now - self._pruned_at >= PRUNE_EVERY_S:  # the window is minutes: once a second is plenty (a settings read)
            self._pruned_at = now
            self.journal.prune(now, self.window_s)
        for line in batch:
            link.writer.write(line.data)
            link.written += len(line.data)
            self.journal.written(line, now, link.number, link.written)
            self._queued.discard(line.client_order_id)
        await link.writer.drain()
        for line in batch:
            if line.client_order_id not in self._delivered:
                self._remember(line.client_order_id)
                self._report(line.client_order_id)
        if batch:
            self.last_delivery = utc_now()
        if self.kept.keeps_waiting and not self._outbox:
            await self._persist_outbox()

    def _requeue(self, link: _Link) -> None:
        """Put back what the receiver may not have read, in the order it was first written."""
        if link.clean_close:
            unconfirmed = unconfirmed_bytes(link.writer)
            if unconfirmed is not None:
                self.journal.read_through(link.number, link.written - unconfirmed)
        elif link.lost is None:
            # Station's own stop: what the receiver's kernel has taken, it reads (a frozen receiver, when it thaws),
            # and a FIN follows. So a receiver that never acknowledges gets the lines of the last resend_window_s at
            # the next start, as the contract says, not every line since it connected; what is still queued here
            # (a frozen receiver's full buffer) may never leave, and is kept.
            unconfirmed = unconfirmed_bytes(link.writer)
            if unconfirmed is None:  # the OS does not say (Windows): at least what never left the process
                unconfirmed = link.writer.transport.get_write_buffer_size()
            self.journal.read_through(link.number, link.written - unconfirmed)
        again = self.journal.to_resend(time.monotonic(), self.window_s)
        again = [line for line in again if line.client_order_id not in self._queued]
        for line in again:
            self._queued.add(line.client_order_id)
        self._outbox.extendleft(reversed(again))

    async def _settle(self) -> None:
        """Give an acknowledging receiver a moment to acknowledge what was just written."""
        deadline = time.monotonic() + SETTLE_S
        while (self._link is not None and self._link.lost is None and self.journal.acknowledging
               and len(self.journal) and time.monotonic() < deadline):
            await asyncio.sleep(0.01)

    # ---- replies -----------------------------------------------------------------------------

    async def _read_replies(self, link: _Link) -> None:
        """Reads what the receiver answers; its end (EOF or an error) is how a lost peer is noticed at once."""
        try:
            while True:
                try:
                    raw = await link.reader.readline()
                except ValueError:  # longer than the reader's limit: it was dropped, go on with the next
                    self._bad_reply("a reply longer than 64 KiB")
                    continue
                if not raw:
                    link.clean_close = True
                    link.lost = link.lost or "closed by NinjaTrader"
                    return
                if raw.strip():
                    self._on_reply(link, raw)
        except (ConnectionError, OSError) as exc:
            link.lost = link.lost or f"connection lost ({_describe(exc)})"
        except Exception:  # a bug in handling a reply must not look like a lost peer, nor stay silent
            log.exception("%s: handling a reply failed", self.name)
            link.lost = link.lost or "reading the receiver's replies failed"
        finally:
            self._wake.set()

    def _on_reply(self, link: _Link, raw: bytes) -> None:
        try:
            reply = parse_reply(raw)
        except BadReply as exc:
            self._bad_reply(f"{exc}: {raw[:200]!r}")
            return
        if not self.answers:
            self._now_answering()
        if isinstance(reply, AckReply):
            self.journal.acknowledged(reply.id)
        elif isinstance(reply, OrderReply):
            if reply.id is not None:
                self.journal.heard_of(reply.id)
            self.replies.on_order(reply)
        else:
            known = len(self.replies.accounts)
            self.replies.on_position(reply)
            if len(self.replies.accounts) != known and self.state is ConnectionState.CONNECTED:
                self._set_state(ConnectionState.CONNECTED, self._connected_detail())
        if self.reply_listener is not None:
            self.reply_listener(reply)

    def _bad_reply(self, what: str) -> None:
        self._bad_replies += 1
        if self._bad_replies <= MAX_BAD_REPLIES_LOGGED:
            log.warning("%s: ignored a line from the receiver that is no reply (%s)%s", self.name, what,
                        "; further ones are not logged" if self._bad_replies == MAX_BAD_REPLIES_LOGGED else "")

    def _now_answering(self) -> None:
        """The receiver answers: it reports fills (said to the oms, and kept for the next start)."""
        self.answers = True
        self.capabilities = ANSWERING
        log.info("%s: its receiver answers; orders there are followed to their fills", self.name)
        self.bus.publish(DestinationBuilt(self.name, PORT_TYPE, self.capabilities))
        if self.state is ConnectionState.CONNECTED:
            self._set_state(ConnectionState.CONNECTED, self._connected_detail())
        self._marking = asyncio.ensure_future(self.kept.remember_answers())

    def _connected_detail(self) -> str:
        where = f"{self.host}:{self.port}"
        if not self.answers:
            return where
        accounts = ", ".join(sorted(self.replies.accounts))
        return f"{where}; receiver answers" + (f" ({accounts})" if accounts else "")

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

    async def _persist_outbox(self) -> None:
        """Keep what waits (and what is to be written again) for the next start; it holds what was unacknowledged."""
        await self.kept.keep_waiting(self._outbox)
        await self.kept.keep_unacknowledged([])


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "connect timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
