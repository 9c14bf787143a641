"""Alerts (and manual clicks) into orders: plan, risk check, record with the alert's status, then send.

Each alert is routed once: the orders (unique client order ids) and the alert's
new status are written in the same writer job, which first checks the alert is
still `queued`. Events are published, and orders sent (`SubmitOrder`, carried out
by the dispatcher in `brokers/`), only after that job is committed — except to a
destination whose receiver drops repeats, which gets them while the rows commit.
The alerts of one journal commit are routed together: one writer job, and one
notice per reason, for the whole batch.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from station.bus import Bus
from station.domain.alert import Alert
from station.domain.commands import CancelOrder, SubmitOrder
from station.domain.config import RoutingConfig
from station.domain.enums import AlertStatus, OrderStatus
from station.domain.events import AlertRejected, AlertRouted, AlertUnrouted, Notified, OrderUpdated
from station.domain.ids import alert_cause
from station.domain.orders import Order
from station.domain.timeutil import utc_now
from station.oms.book import Book
from station.oms.destinations import DestinationCapabilities
from station.oms.notices import AlertNotices
from station.oms.planner import Plan, Planner, select_strategies
from station.oms.recorder import Recorder
from station.oms.risk.gate import RiskGate
from station.store import alerts_repo, order_repo as rows

log = logging.getLogger("station.oms")

@dataclass
class Admitted:
    """The outcome of admitting a plan: orders to record, and why the others were refused."""

    orders: list[rows.NewOrder] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    sent_early: set[str] = field(default_factory=set)
    cancels: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> list[Order]:
        return [o.order for o in self.orders if o.order.status is OrderStatus.NEW]


@dataclass(slots=True)
class _Decision:
    """One alert's routing outcome, recorded in its batch's writer job."""

    alert: Alert
    plan: Plan
    admitted: Admitted
    status: AlertStatus
    reason: str | None


class Router:
    """Routes journaled alerts and manual commands through the planner, the risk gate and the dispatcher."""

    def __init__(self, bus: Bus, book: Book, gate: RiskGate, recorder: Recorder,
                 destinations: DestinationCapabilities, config: Callable, delay_s: Callable[[Alert], float]) -> None:
        self.bus, self.book, self.gate = bus, book, gate
        self.recorder, self.destinations = recorder, destinations
        self._config = config
        self._delay_s = delay_s
        self._seen: set[int] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._ready: list[Alert] = []
        self.notices = AlertNotices(bus.publish)

    def on_alert(self, alert: Alert) -> None:
        """Route a journaled alert once, after its strategy's processing delay."""
        if alert.alert_id is None or alert.alert_id in self._seen:
            return
        self._seen.add(alert.alert_id)
        if alert.spread is None:
            self.book.marks.seen(alert.ticker, alert.price)
        wait = (alert.received_at + timedelta(seconds=self._delay_s(alert)) - utc_now()).total_seconds()
        if wait <= 0:
            self._enqueue(alert)
            return
        loop = asyncio.get_running_loop()
        handle = loop.call_later(wait, lambda: (self._timers.discard(handle), self._enqueue(alert)))
        self._timers.add(handle)

    def cancel_timers(self) -> None:
        """At shutdown: forget delayed alerts (they stay queued for the next start), tell what is held."""
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        self.notices.flush()

    def _enqueue(self, alert: Alert) -> None:
        # The alerts of one journal commit arrive in one turn of the loop: they are routed together,
        # with one config check and one writer job (a flood costs one commit per batch, not per alert).
        self._ready.append(alert)
        if len(self._ready) == 1:
            asyncio.get_running_loop().call_soon(self._route_ready)

    def _route_ready(self) -> None:
        alerts, self._ready = self._ready, []
        self.route(*alerts)

    def route(self, *alerts: Alert) -> asyncio.Future:
        """Plan, check and record alerts in one writer job; the future resolves after their orders are committed."""
        config = None if self.book.kill_switch_engaged else self._config()
        decisions = [self._decide(alert, config) for alert in alerts]

        def job(conn):
            still_queued = alerts_repo.set_routing_outcomes(conn, [(d.alert.alert_id, d.status, d.reason) for d in decisions])
            out = []
            for d in decisions:
                if d.alert.alert_id not in still_queued:
                    out.append(None)
                    continue
                out.append(rows.insert_orders(conn, d.admitted.orders))
                rows.insert_pair_groups(conn, d.plan.pairs)
            return out

        def after(results):
            notices: dict[tuple[str, str | None], list[Alert]] = {}
            for d, inserted in zip(decisions, results):
                self._published(d, inserted, notices)
            for (title, reason), noticed in notices.items():
                self.notices.add(title, reason, noticed)

        def failed(exc):
            for d in decisions:
                self._forget(d.admitted, set())

        # statuses alone (no order waits for this commit) share the next commit, e.g. the next alert's
        lazy = not any(d.admitted.orders or d.plan.pairs for d in decisions)
        future = self.recorder.write(job, after, failed, lazy=lazy)
        for d in decisions:
            self._send_early(d.admitted)
        return future

    def _decide(self, alert: Alert, config: RoutingConfig | None) -> _Decision:
        """What routing makes of one alert: its plan, the admitted orders, the alert's new status."""
        if config is None:
            return _Decision(alert, Plan(), Admitted(), AlertStatus.REJECTED,
                             f"kill switch engaged ({self.book.kill_switch_reason})")
        targets, reason = select_strategies(alert, config)
        if not targets:
            return _Decision(alert, Plan(), Admitted(), AlertStatus.UNROUTED, reason)
        plan = Planner(config, self.book).plan(alert, alert_cause(alert.alert_id), targets)
        admitted = self.admit(plan)
        return _Decision(alert, plan, admitted, *_alert_outcome(admitted, plan))

    def _published(self, d: _Decision, inserted: list[str] | None,
                   notices: dict[tuple[str, str | None], list[Alert]]) -> None:
        """After the commit: events for one alert, its orders sent; notices collected for the batch."""
        alert_id, admitted = d.alert.alert_id, d.admitted
        if inserted is None:
            log.info("alert %s was already routed; nothing sent again", alert_id)
            self._forget(admitted, set())
            return
        self._publish_orders(admitted, set(inserted))
        self._cancel(admitted)
        if d.status is AlertStatus.ROUTED:
            self.bus.publish(AlertRouted(alert_id, tuple(inserted), d.reason))
        elif d.status is AlertStatus.UNROUTED:
            self.bus.publish(AlertUnrouted(alert_id, d.reason))
            notices.setdefault(("Alert not routed", d.reason), []).append(d.alert)
        else:
            self.bus.publish(AlertRejected(alert_id, d.reason))
            notices.setdefault(("Alert rejected", d.reason), []).append(d.alert)
        self._send(admitted, set(inserted))

    def record(self, plan: Plan, on_done: Callable[[list[str], list[str]], None] | None = None) -> asyncio.Future:
        """Admit and record a plan that has no journaled alert (manual clicks, flatten)."""
        admitted = self.admit(plan)

        def job(conn):
            inserted = rows.insert_orders(conn, admitted.orders)
            rows.insert_pair_groups(conn, plan.pairs)
            return inserted

        def after(inserted):
            self._publish_orders(admitted, set(inserted))
            self._cancel(admitted)
            self._send(admitted, set(inserted))
            if on_done:
                on_done(inserted, admitted.refusals)

        return self.recorder.write(job, after, lambda exc: self._forget(admitted, set()))

    def admit(self, plan: Plan) -> Admitted:
        """Risk-check every planned order and put it in the book (new, or rejected with the reason)."""
        admitted = Admitted(cancels=[c for c in plan.cancels if c in self.book.open])
        accepted: set[str] = set()
        for planned in plan.orders:
            if planned.client_order_id in self.book.orders:
                continue  # the same cause already made this order
            if planned.request is None:
                admitted.refusals.append(f"{planned.destination}: {planned.refusal}")
                continue
            if planned.status is OrderStatus.HELD:
                # a bracket's exit protects its entry: made with it (never alone), not judged by the risk rules
                if planned.request.parent_id in accepted:
                    order = Order(planned.request, status=OrderStatus.HELD)
                    self.book.add_order(order, planned.meta)
                    admitted.orders.append(rows.NewOrder(order, planned.meta.cause, planned.meta.pair_group,
                                                         planned.meta.leg, planned.meta.point_value))
                continue
            reason = self.gate.check(planned.request)
            order = Order(planned.request)
            if not reason:
                accepted.add(order.client_order_id)
            if reason:
                order = order.transition(OrderStatus.REJECTED, reason=reason)
                admitted.refusals.append(f"{planned.destination}: {reason}")
            self.book.add_order(order, planned.meta)
            admitted.orders.append(rows.NewOrder(order, planned.meta.cause, planned.meta.pair_group,
                                                 planned.meta.leg, planned.meta.point_value))
        return admitted

    def _forget(self, admitted: Admitted, keep: set[str]) -> None:
        for item in admitted.orders:
            if item.order.client_order_id not in keep:
                self.book.forget(item.order.client_order_id)

    def _publish_orders(self, admitted: Admitted, inserted: set[str]) -> None:
        self._forget(admitted, inserted)
        for item in admitted.orders:
            if item.order.client_order_id in inserted:
                self.bus.publish(OrderUpdated(item.order))
                if item.order.status is OrderStatus.REJECTED:
                    self.bus.publish(Notified("Order rejected", f"{item.order.client_order_id}: {item.order.reason}",
                                              "warning"))

    def _cancel(self, admitted: Admitted) -> None:
        """What the plan cancels goes first (an exit cancels the position's protective orders before it closes)."""
        for coid in admitted.cancels:
            order = self.book.open.get(coid)
            if order is not None:
                self.bus.publish(CancelOrder(coid))

    def submit(self, order: Order) -> None:
        """Send an order recorded earlier (at start: one never sent before a restart)."""
        self._submit(order)

    def _submit(self, order: Order) -> None:
        """Send an order; a bracket's entry takes its held exits along (a destination with native brackets
        sends them with it)."""
        exits = tuple(x.request for x in self.book.exits(order.client_order_id) if x.status is OrderStatus.HELD)
        self.bus.publish(SubmitOrder(order.request, exits))

    def _send_early(self, admitted: Admitted) -> None:
        # A receiver that drops a line it has already seen (the contract's `id`) gets its orders while the
        # rows commit, not after, which saves a disk flush of latency; a crash in between re-routes the
        # still-queued alert with the same client order ids.
        for order in admitted.accepted:
            if self.destinations.drops_repeats(order.request.destination):
                admitted.sent_early.add(order.client_order_id)
                self._submit(order)

    def _send(self, admitted: Admitted, inserted: set[str]) -> None:
        for order in admitted.accepted:
            if order.client_order_id in inserted and order.client_order_id not in admitted.sent_early:
                self._submit(self.book.orders.get(order.client_order_id, order))


def _alert_outcome(admitted: Admitted, plan: Plan) -> tuple[AlertStatus, str | None]:
    notes = "; ".join(admitted.refusals) or None
    if admitted.accepted:
        return AlertStatus.ROUTED, notes
    if admitted.cancels and not admitted.refusals:
        return AlertStatus.ROUTED, f"cancelled {len(admitted.cancels)} order(s)"
    if not plan.orders and not plan.cancels:
        return AlertStatus.UNROUTED, plan.unrouted or "nothing to do"
    if not admitted.orders and not admitted.refusals:
        return AlertStatus.ROUTED, "already routed"
    return AlertStatus.REJECTED, notes


