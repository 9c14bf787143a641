"""Plans for the manual buttons: Buy/Sell (like an alert), Close, Reverse, Flatten All.

Close, Reverse and Flatten act on the positions the book holds at destinations
that report fills; NinjaTrader ports report none, so only Buy and Sell reach them.
"""

from __future__ import annotations


from station.domain.alert import Alert
from station.domain.commands import ManualOrder
from station.domain.config import RoutingConfig
from station.domain.enums import OrderRole, Side
from station.domain.ids import client_order_id
from station.domain.orders import OrderRequest
from station.domain.timeutil import utc_now
from station.oms import closing
from station.oms.book import Book, OrderMeta
from station.oms.planner import Plan, PlannedOrder, Planner


class ManualError(ValueError):
    """A manual action cannot be carried out (unknown strategy, ticker not listed, nothing to close)."""


def manual_cause(click_id: str) -> str:
    return f"m{click_id}"


def order_plan(command: ManualOrder, config: RoutingConfig, book: Book) -> Plan:
    """A Buy/Sell click routed to the destinations of the strategy's ticker, like an alert."""
    strategy = config.strategy(command.strategy)
    if strategy is None:
        raise ManualError(f"no strategy named {command.strategy!r}")
    entry = strategy.ticker(command.ticker)
    if entry is None:
        raise ManualError(f"strategy {strategy.name} does not list ticker {command.ticker}")
    if command.qty is not None and command.qty <= 0:
        raise ManualError("quantity must be greater than 0")
    if command.destination is not None and command.destination not in entry.destination_names():
        raise ManualError(f"{strategy.name} / {entry.ticker} does not go to {command.destination}")
    alert = Alert(ticker=entry.ticker, action=command.side, received_at=utc_now(), qty=command.qty,
                  price=book.marks.price(entry.ticker), strategy=strategy.name, source="manual",
                  trade_id=f"manual {command.click_id}", instructions=command.instructions)
    plan = Planner(config, book).plan(alert, manual_cause(command.click_id), [(strategy, entry)], command.destination)
    if not plan.orders:
        raise ManualError(f"{strategy.name} / {entry.ticker} has no destination")
    return plan


def closing_plan(cause: str, book: Book, *, strategy: str | None = None, ticker: str | None = None,
                 reverse: bool = False, destination: str | None = None) -> Plan:
    """Orders that close (or reverse) every matching open position, one per destination, after cancelling
    each one's protective orders (and the strategy's working entries there)."""
    plan = Plan()
    wanted = destination
    for (destination, symbol, owner), position in sorted(book.positions.items()):
        if position.is_flat or (strategy is not None and owner != strategy) or (
                ticker is not None and symbol != ticker.upper()) or wanted not in (None, destination):
            continue
        plan.cancel(closing.protective(book, destination, symbol, owner or None))
        qty = abs(position.qty) * (2 if reverse else 1)
        side = Side.SELL if position.qty > 0 else Side.BUY
        coid = client_order_id(cause, owner or None, destination, symbol)
        request = OrderRequest(client_order_id=coid, destination=destination, ticker=symbol, side=side, qty=qty,
                               strategy=owner or None, price_hint=book.marks.price(symbol),
                               instrument=book.instruments.get((destination, symbol, owner)),
                               role=OrderRole.ENTRY if reverse else OrderRole.EXIT)
        meta = OrderMeta(cause, point_value=position.multiplier)
        plan.orders.append(PlannedOrder(request, meta, coid, destination))
    return plan


def check_closing(plan: Plan, what: str) -> Plan:
    if not plan.orders:
        raise ManualError(f"no open position {what}")
    return plan


