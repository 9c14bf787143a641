"""Order outcomes of strategy signals: an entry that every destination refused leaves the strategy flat.

A strategy's position is its own view (`Strategy.position`). When every order of its entry
signal ends rejected or cancelled with nothing filled, that position was never taken; kept,
it would make the strategy's next exit open the other side. An order still open (a
NinjaTrader port line is never reported filled) keeps the strategy's view as it is.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Callable

from station.domain.alert import Alert
from station.domain.enums import OrderStatus
from station.domain.events import OrderUpdated
from station.domain.orders import Order

REFUSED = frozenset({OrderStatus.REJECTED, OrderStatus.CANCELLED})
TRACKED = 2000  # signals whose orders are still open; the oldest are let go first


class EntryOutcomes:
    """Watches the orders of strategy signals; calls `refused(alert, reasons)` when none was taken."""

    def __init__(self, refused: Callable[[Alert, str], None]) -> None:
        self._refused = refused
        self._orders: OrderedDict[int, dict[str, Order]] = OrderedDict()
        self._judging: set[int] = set()

    def on_order(self, event: OrderUpdated) -> None:
        order = event.order
        alert = order.request.alert
        if alert is None or alert.source != "strategy" or alert.alert_id is None:
            return
        self._orders.setdefault(alert.alert_id, {})[order.client_order_id] = order
        while len(self._orders) > TRACKED:
            self._orders.popitem(last=False)
        if alert.alert_id not in self._judging:
            # the router publishes all orders of one signal in one go: judge once they are all known
            self._judging.add(alert.alert_id)
            asyncio.get_running_loop().call_soon(self._judge, alert)

    def _judge(self, alert: Alert) -> None:
        self._judging.discard(alert.alert_id)
        orders = self._orders.get(alert.alert_id)
        if not orders or not all(o.status.is_terminal for o in orders.values()):
            return
        del self._orders[alert.alert_id]
        if any(o.filled_qty > 0 or o.status not in REFUSED for o in orders.values()):
            return
        reasons = sorted({o.reason for o in orders.values() if o.reason}) or ["refused"]
        self._refused(alert, "; ".join(reasons))
