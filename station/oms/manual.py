"""Plans for the manual buttons: Buy/Sell (like an alert), Close, Reverse, Flatten All.

Close, Reverse and Flatten act on the positions the book holds at destinations
that report fills; NinjaTrader ports report none, so only Buy and Sell reach them.
A pair ticker (`NMFC-0.72*NASDAQ:ROIC`) acts on both legs: Buy/Sell as a pair alert
(leg 2 sized by the hedge), Close/Reverse on each leg's position.
"""

from __future__ import annotations

from decimal import Decimal

from station.domain.alert import Alert
from station.domain.commands import ManualOrder
from station.domain.config import RoutingConfig
from station.domain.enums import OrderRole, Side
from station.domain.ids import client_order_id
from station.domain.orders import OrderRequest
from station.domain.spread_symbols import parse_spread
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
    spread = parse_spread(command.ticker)
    entry = strategy.ticker(command.ticker) or (strategy.ticker(spread.ticker1) if spread else None)
    if entry is None:
        raise ManualError(f"strategy {strategy.name} does not list ticker {command.ticker}")
    if command.qty is not None and command.qty <= 0:
        raise ManualError("quantity must be greater than 0")
    if command.destination is not None and command.destination not in entry.destination_names():
        raise ManualError(f"{strategy.name} / {entry.ticker} does not go to {command.destination}")
    price = book.marks.price(entry.ticker) if spread is None else spread_price(book, spread)
    alert = Alert(ticker=command.ticker if spread else entry.ticker, action=command.side, received_at=utc_now(),
                  qty=command.qty, price=price, strategy=strategy.name, source="manual",
                  trade_id=f"manual {command.click_id}", spread=spread, instructions=command.instructions)
    plan = Planner(config, book).plan(alert, manual_cause(command.click_id), [(strategy, entry)], command.destination)
    if not plan.orders:
        raise ManualError(f"{strategy.name} / {entry.ticker} has no destination")
    return plan


def spread_price(book: Book, spread) -> Decimal | None:
    """`price1 − hedge × price2` at the legs' marks; None until both have one."""
    first, second = book.marks.price(spread.ticker1), book.marks.price(spread.ticker2)
    return None if first is None or second is None else first - spread.hedge * second


def closing_plan(cause: str, book: Book, *, strategy: str | None = None, ticker: str | None = None,
                 reverse: bool = False, destination: str | None = None) -> Plan:
    """Orders that close (or reverse) every matching open position, one per destination (and leg of a pair),
    after cancelling each one's protective orders (and the strategy's working entries there)."""
    plan = Plan()
    wanted = destination
    spread = parse_spread(ticker) if ticker is not None else None
    symbols = None if ticker is None else {spread.ticker1, spread.ticker2} if spread else {ticker.upper()}
    for (destination, symbol, owner), position in sorted(book.positions.items()):
        if position.is_flat or (strategy is not None and owner != strategy) or (
                symbols is not None and symbol.upper() not in symbols) or wanted not in (None, destination):
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


