"""A `Broker` over a REST API (Schwab, Tastytrade): background connection, reconciliation, polling.

The cycle: log in and find the account → look for the orders in doubt → report CONNECTED
→ send what waited here → poll (every `poll_s` while an order is open, every `idle_poll_s`
otherwise). What the broker holds (orders since the oldest open one, their fills,
positions) is answered by `reports(since)`, which the dispatcher asks for after each
(re)connect and the oms reconciles; polling then reports only changes. Any failure drops
back to reconnecting with the shared back-off capped at `reconnect_max_s`, so Station is
reconnected within seconds of the broker being back.

Exactly once: a client order id is sent at most once per process. An order whose
POST may have reached the broker (timeout, 5xx) is "in doubt" and is looked for at
the next reconnect before it is sent again; so is an order handed over by the
oms that was created before this process started (a resend after a restart). It is
found by the client order id the broker stores (Tastytrade's `external-identifier`)
or, where there is none (Schwab), by an order of the same symbol, side, size, type
and prices entered since the request was made and not claimed by another.

A bracket goes in one request in the broker's native form (`submit_bracket`, see `brackets.py`): its exits
are reported like any order (held by the oms until the entry fills). A bracket that form cannot carry, or that
the broker refuses, raises `BracketRefused` with nothing placed: the entry then goes alone.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Callable, Iterable

from station.backoff import Backoff
from station.brokers.protocol import BracketRefused, BrokerCapabilities, BrokerError, BrokerReports
from station.brokers.rest.balances import BrokerBalances
from station.brokers.rest.client import AuthError, RejectedError, TransientError
from station.brokers.rest.positions import BrokerPositions
from station.brokers.rest.reports import OrderReports
from station.brokers.rest.snapshots import MATCH_SKEW, BrokerApi
from station.bus import Bus
from station.domain.enums import ConnectionState, OrderStatus
from station.domain.events import ConnectionChanged, Event, FillReported, Notified, OrderReported, PositionReported
from station.domain.orders import Order, OrderRequest
from station.domain.timeutil import utc_now

log = logging.getLogger("station.brokers")

ZERO = Decimal(0)
C = ConnectionState
RECONNECT_INITIAL_S = 0.25


class RestBroker(OrderReports):
    """The `Broker` protocol for a REST API: connects, reconciles, polls, reports on the bus."""

    kind = "broker"

    def __init__(self, name: str, bus: Bus, api: BrokerApi, *, poll_s: float = 1.0, idle_poll_s: float = 5.0,
                 reconnect_max_s: float = 5.0, auth_retry_s: float = 15.0,
                 capabilities: BrokerCapabilities | None = None) -> None:
        self.name, self.bus, self.api = name, bus, api
        self.state = C.DISCONNECTED
        self.detail = ""
        self.capabilities = capabilities or BrokerCapabilities()
        self._poll_s, self._idle_poll_s = poll_s, max(poll_s, idle_poll_s)
        self._reconnect_max_s, self._auth_retry_s = reconnect_max_s, auth_retry_s
        OrderReports.__init__(self)
        self._outbox: dict[str, OrderRequest] = {}  # never reached the broker; sent after reconnect
        self._in_doubt: dict[str, OrderRequest] = {}  # may have reached it; looked for first
        self.positions = BrokerPositions(name, api, self._ticker)
        self.balances = BrokerBalances(name, api.balances)  # the account's money, for the window
        self._notified: str | None = None
        self._broken: Exception | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._started_at = utc_now()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.api.title}, {self.state})"

    # ---- Broker protocol ------------------------------------------------------------------

    async def start(self) -> None:
        """Begin connecting in the background; returns at once."""
        if self._task is None or self._task.done():
            self._started_at = utc_now()
            self._task = asyncio.create_task(self._run(), name=f"broker-{self.name}")

    async def stop(self) -> None:
        """Stop polling and reconnecting, close the HTTP session."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.api.close()
        self._set_state(C.DISCONNECTED, "stopped")

    async def submit(self, request: OrderRequest) -> None:
        """Send one order (or keep it until reconnected); a refusal raises BrokerError with the reason."""
        self.api.check(request)
        coid = request.client_order_id
        if coid in self._requests:
            log.warning("%s: order %s was handed over already; it is not sent again", self.name, coid)
            return
        self._remember(request)
        if self.state is not C.CONNECTED:
            self._outbox[coid] = request
            log.info("%s: not connected; order %s waits and is sent after reconnecting", self.name, coid)
            return
        async with self._lock:
            if request.created_at < self._started_at and await self._adopt_existing(request):
                return
            await self._place(request, report_reject=False)

    async def submit_bracket(self, entry: OrderRequest, exits: tuple[OrderRequest, ...]) -> None:
        """Send an entry with its exits in one request, the broker's native form (or keep them until reconnected);
        BracketRefused, with nothing placed, when that form cannot carry them or the broker refuses it."""
        for each in (entry, *exits):
            self.api.check(each)
        self.api.check_bracket(entry, exits)
        coid = entry.client_order_id
        if coid in self._requests:
            log.warning("%s: order %s was handed over already; it is not sent again", self.name, coid)
            return
        for each in (entry, *exits):
            self._remember(each)
        self.brackets.add(coid, exits)
        if self.state is not C.CONNECTED:
            self._outbox[coid] = entry
            log.info("%s: not connected; bracket %s waits and is sent after reconnecting", self.name, coid)
            return
        async with self._lock:
            if entry.created_at < self._started_at and await self._adopt_existing(entry):
                return
            await self._place(entry, report_reject=False)

    async def cancel(self, client_order_id: str) -> None:
        """Ask the broker to cancel; the outcome arrives as an OrderReported from the next poll."""
        if self._outbox.pop(client_order_id, None) is not None:
            self._report(client_order_id, OrderStatus.CANCELLED, None, "cancelled before it was sent")
            return
        broker_id = self._broker_ids.get(client_order_id)
        if broker_id is None:
            raise BrokerError(f"order {client_order_id} is not known at {self.name} yet; it cannot be cancelled now")
        if self.state is not C.CONNECTED:
            raise BrokerError(f"{self.name} is not connected; cancel {client_order_id} again once it is")
        try:
            await self.api.cancel(broker_id)
        except RejectedError as exc:
            raise BrokerError(f"{self.api.title} refused to cancel {client_order_id}: {exc.message}") from None
        except (TransientError, AuthError) as exc:
            self._lost(exc)
            raise BrokerError(f"{self.name}: cancel of {client_order_id} not confirmed: {exc}") from None
        self._wake.set()

    async def replace(self, request: OrderRequest) -> None:
        """Not yet: changing a working order in place (the APIs' replace) comes with the order-change feature."""
        raise BrokerError(f"{self.name} cannot change {request.client_order_id} yet; cancel it and send a new one")

    async def reports(self, since: datetime) -> BrokerReports:
        """The broker's orders since `since` (and every open one), their fills, and its positions."""
        collected: list[Event] = []
        try:
            async with self._lock:
                snapshots = await self.api.orders(min(since, self._since()))
                self._apply(snapshots, collected.append, everything=True)
                await self._fetch_missing(snapshots, collected.append, everything=True)
                await self.positions.refresh(collected.append, everything=True)
                self.positions.held = False
        except (TransientError, AuthError) as exc:
            self._lost(exc)
            raise BrokerError(f"{self.name}: cannot read what {self.api.title} holds: {exc}") from None
        return BrokerReports(
            self.name, since,
            orders=tuple(e for e in collected if isinstance(e, OrderReported)),
            fills=tuple(e.fill for e in collected if isinstance(e, FillReported)),
            positions=tuple(e for e in collected if isinstance(e, PositionReported)))

    def resume(self, orders: Iterable[Order], worked_here: Callable[[str], bool] | None = None) -> None:
        """Orders handed to this destination before a restart (the oms's book), so reports find them again; those
        Station holds or works itself (`worked_here`) never went there. A held exit of a native bracket goes
        with its entry: it is never sent on its own."""
        for order in orders:
            if order.request.destination != self.name or order.status is OrderStatus.NEW:
                continue
            coid = order.client_order_id
            if worked_here is not None and worked_here(coid):
                continue
            self._remember(order.request)
            self._reported.setdefault(coid, (order.status, order.filled_qty))
            if order.request.protective and order.request.parent_id:
                self.brackets.attach(order.request)
            if order.broker_order_id:
                self._link(coid, order.broker_order_id)
            elif not order.status.is_terminal and not (order.request.protective and order.status is OrderStatus.HELD):
                self._in_doubt[coid] = order.request

    # ---- connection cycle -----------------------------------------------------------------

    async def _run(self) -> None:
        self._set_state(C.CONNECTING, "")
        backoff = Backoff(min(RECONNECT_INITIAL_S, self._reconnect_max_s), self._reconnect_max_s)
        while True:
            try:
                await self.api.connect()
                await self._reconcile()
                backoff.reset()
                await self._poll()
            except asyncio.CancelledError:
                raise
            except (AuthError, RejectedError) as exc:
                self._set_state(C.ERROR, str(exc))
                self._notify(str(exc))
                await asyncio.sleep(self._auth_retry_s)
            except TransientError as exc:
                self._set_state(C.DISCONNECTED, f"{exc}; reconnecting")
                await asyncio.sleep(backoff.next())
            except Exception as exc:  # a broker answer we could not read: log it, keep trying
                log.exception("%s: unexpected failure", self.name)
                self._set_state(C.ERROR, f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(self._reconnect_max_s)

    async def _reconcile(self) -> None:
        """The orders in doubt looked for, then CONNECTED, then what waited here (what the broker holds is
        `reports(since)`'s answer, asked next)."""
        async with self._lock:
            self._broken = None
            self.positions.held = True
            if self._in_doubt:
                snapshots = await self.api.orders(self._since())
                for coid, request in list(self._in_doubt.items()):
                    found = self._find(request, snapshots)
                    if found is not None:
                        del self._in_doubt[coid]
                        self._link(coid, found.broker_order_id)
                        log.info("%s: order %s had reached the broker (%s); not sent again", self.name, coid,
                                 found.broker_order_id)
            self._notified = None
            self._set_state(C.CONNECTED, self.api.description)
            waiting = sorted([*self._in_doubt.values(), *self._outbox.values()], key=lambda r: r.created_at)
            self._in_doubt.clear()
            self._outbox.clear()
            for index, request in enumerate(waiting):
                if self._broken is not None:
                    self._outbox.update({r.client_order_id: r for r in waiting[index:]})
                    break
                await self._place(request, report_reject=True)

    async def _poll(self) -> None:
        while True:
            await self._sleep_or_wake(self._poll_s if self._has_open() else self._idle_poll_s)
            if self._broken is not None:
                raise self._broken
            async with self._lock:
                snapshots = await self.api.orders(self._since())
                self._apply(snapshots, self.bus.publish)
                await self._fetch_missing(snapshots, self.bus.publish)
                if self.positions.due():
                    await self.positions.refresh(self.bus.publish)
                if self.balances.due():
                    await self.balances.refresh(self.bus.publish)

    async def _sleep_or_wake(self, seconds: float) -> None:
        # asyncio.wait, not wait_for: on 3.11 wait_for can swallow the cancel that stop() sends
        waiter = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({waiter}, timeout=seconds)
        finally:
            waiter.cancel()
        self._wake.clear()

    # ---- sending --------------------------------------------------------------------------

    async def _place(self, request: OrderRequest, *, report_reject: bool) -> None:
        coid = request.client_order_id
        legs = self.brackets.of(coid)
        position = lambda: self.positions.qty(request.symbol, self.bus.publish)  # noqa: E731
        try:
            if legs:
                ids = await self.api.place_bracket(request, legs, position)
            else:
                ids = {coid: await self.api.place(request, position)}
        except BrokerError as exc:
            refused = isinstance(exc, (RejectedError, BracketRefused))
            if legs and refused and not report_reject:  # nothing placed: the entry may still go alone
                self._forget_bracket(request)
                raise BracketRefused(f"{self.api.title} refused the bracket: {exc}") from None
            what = "the bracket" if legs else "the order"
            reason = f"{self.api.title} rejected {what}: {exc}" if isinstance(exc, RejectedError) else str(exc)
            self._reported[coid] = (OrderStatus.REJECTED, ZERO)
            log.warning("%s: order %s rejected: %s", self.name, coid, reason)
            if not report_reject:
                raise BrokerError(reason) from None
            self.bus.publish(OrderReported(self.name, coid, OrderStatus.REJECTED, None, reason))
            return
        except TransientError as exc:
            (self._in_doubt if exc.sent else self._outbox)[coid] = request
            self._lost(exc)
            return
        except AuthError as exc:
            self._outbox[coid] = request
            self._lost(exc)
            return
        for each, broker_id in ids.items():
            self._link(each, broker_id)
        log.info("%s: %s %s (%s %s %s) placed as %s", self.name, "bracket" if legs else "order", coid, request.side,
                 request.qty, request.symbol, ids[coid])
        for each in (request, *legs):
            if each.client_order_id in ids and each.client_order_id not in self._reported:
                self._report(each.client_order_id, OrderStatus.SUBMITTED, ids[each.client_order_id], None)
        self._wake.set()

    def _forget_bracket(self, entry: OrderRequest) -> None:
        """A bracket the broker refused: none of it was placed, the entry may be handed over again alone."""
        for each in (entry, *self.brackets.drop(entry.client_order_id)):
            self._requests.pop(each.client_order_id, None)
            self._reported.pop(each.client_order_id, None)

    async def _adopt_existing(self, request: OrderRequest) -> bool:
        """For a request made before this process started: is it at the broker already?"""
        try:
            snapshots = await self.api.orders(request.created_at - MATCH_SKEW)
        except (TransientError, AuthError) as exc:
            self._in_doubt[request.client_order_id] = request
            self._lost(exc)
            return True
        found = self._find(request, snapshots)
        if found is None:
            return False
        self._link(request.client_order_id, found.broker_order_id)
        log.info("%s: order %s is at the broker already as %s; not sent again", self.name,
                 request.client_order_id, found.broker_order_id)
        self._apply([found], self.bus.publish)
        return True

    def _lost(self, exc: Exception) -> None:
        """The link failed under a request: reconnect (and reconcile) before anything else is sent."""
        self._broken = exc
        if isinstance(exc, AuthError):
            self._set_state(C.ERROR, str(exc))
        else:
            self._set_state(C.DISCONNECTED, f"{exc}; reconnecting")
        self._wake.set()

    # ---- state ----------------------------------------------------------------------------

    def _set_state(self, state: ConnectionState, detail: str) -> None:
        if (state, detail) == (self.state, self.detail):
            return
        self.state, self.detail = state, detail
        level = logging.INFO if state in (C.CONNECTED, C.CONNECTING) else logging.WARNING
        log.log(level, "%s: %s%s", self.name, state, f" ({detail})" if detail else "")
        self.bus.publish(ConnectionChanged(self.name, self.kind, state, detail))

    def _notify(self, message: str) -> None:
        if message != self._notified:
            self._notified = message
            self.bus.publish(Notified(f"{self.name}: cannot connect", message, level="error"))

    def _has_open(self) -> bool:
        return bool(self._outbox or self._in_doubt) or any(not self._final(c) for c in self._broker_ids)

    def _since(self):
        now = utc_now()
        open_times = [self._requests[c].created_at for c in self._broker_ids if not self._final(c) and c in self._requests]
        open_times += [r.created_at for r in self._in_doubt.values()]
        earliest = min([now - timedelta(days=1), *open_times]) - MATCH_SKEW
        return max(earliest, now - timedelta(days=59))
