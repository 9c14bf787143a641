"""Which orders the paper broker is working, as a `PaperSimulator` the crossing search can read.

A paper broker built on the simulator (`broker.simulator`) is read directly, trailing stops' best
trades and triggered stop-limits included. A broker without one is mirrored from the oms's book:
its working limit and stop orders of the backtest's destination, submitted to a fresh simulator
that has seen no trade (enough to find where a trade first reaches one of them).
"""

from __future__ import annotations

from station.brokers.paper.simulator import PaperSimulator, SimOrder
from station.domain.enums import OrderStatus, OrderType

_WORKING = (OrderStatus.WORKING, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)


def working_simulator(broker, book, destination: str) -> PaperSimulator | None:
    """The simulator holding the broker's working orders, or None when it works none."""
    own = getattr(broker, "simulator", None)
    if isinstance(own, PaperSimulator):
        return own if next(iter(own.working()), None) is not None else None
    mirror: PaperSimulator | None = None
    for order in book.open_orders():
        request = order.request
        if (request.destination != destination or order.status not in _WORKING
                or request.order_type not in (OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT)):
            continue
        mirror = mirror or PaperSimulator()
        mirror.submit(SimOrder(request.client_order_id, request.ticker, request.side, request.qty, request.order_type,
                               request.limit_price, request.stop_price))
    return mirror
