"""Planning the alert actions that act on what a strategy holds: `exit` (or `close`), `reverse` and `cancel`.

Pure, like the planner it belongs to: reads the book, adds orders and cancels to the plan.
- exit: at each destination of the ticker, close the strategy's position there (its size, less what
  closing orders already in flight will take) at market, and cancel the position's protective orders
  and the strategy's working entries there (an entry left working would reopen the position, without
  the exits just cancelled);
- reverse: cancel them too, close, and open the other side with the alert's quantity (and its bracket);
- cancel: cancel the strategy's open orders in the ticker there (working orders and held exits).
A NinjaTrader port gets the alert's line with `action` exit, reverse or cancel (Station cannot see its
position); the exits Station works there are cancelled as elsewhere.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from station.domain.alert import Alert
from station.domain.config import StrategyConfig, TickerConfig, TickerDestination
from station.domain.enums import AlertAction, OrderRole, Side
from station.domain.ids import client_order_id
from station.oms.book import Book, OrderMeta

if TYPE_CHECKING:
    from station.oms.planner import Plan, Planner

ZERO = Decimal(0)
NOTHING = {AlertAction.EXIT: "no open position to close", AlertAction.REVERSE: "no open position to reverse",
           AlertAction.CANCEL: "no working orders to cancel"}


def protective(book: Book, destination: str, ticker: str, strategy: str | None) -> list[str]:
    """What an exit or reverse cancels first: the open protective exits (held or working) of a strategy's
    position in a ticker at a destination, and its working entries there."""
    return [o.client_order_id for o in book.open_for(destination, ticker, strategy)
            if o.request.protective or o.request.role is OrderRole.ENTRY]


def closing_in_flight(book: Book, destination: str, ticker: str, strategy: str | None, side: Side) -> Decimal:
    """What open closing orders on `side` will still take off the position (an earlier exit not filled yet)."""
    return sum((o.remaining_qty for o in book.open_for(destination, ticker, strategy)
                if o.request.role is OrderRole.EXIT and o.request.side is side), ZERO)


def port_side(book: Book, alert: Alert, destination: str, ticker: str, strategy: str | None) -> Side:
    """The side of a port's exit/reverse/cancel line: against the position Station knows there, else against
    the position the sender says it had, else sell."""
    held = book.position(destination, ticker, strategy)
    if held:
        return Side.SELL if held > 0 else Side.BUY
    return Side.BUY if (alert.position or "").lower() == "short" else Side.SELL


def _position(book: Book, strategy: StrategyConfig, entry: TickerConfig, route: TickerDestination) -> Decimal:
    return book.position(route.destination, entry.ticker, strategy.name)


def exit_orders(planner: "Planner", plan: "Plan", alert: Alert, cause: str, strategy: StrategyConfig,
                entry: TickerConfig, route: TickerDestination) -> None:
    """Close the position at this destination at market and cancel its protective orders."""
    book = planner.book
    plan.cancel(protective(book, route.destination, entry.ticker, strategy.name))
    held = _position(book, strategy, entry, route)
    if held == 0:
        return
    side = Side.SELL if held > 0 else Side.BUY
    qty = abs(held) - closing_in_flight(book, route.destination, entry.ticker, strategy.name, side)
    if qty <= 0:
        return
    coid = client_order_id(cause, strategy.name, route.destination)
    meta = OrderMeta(cause, point_value=entry.point_value(route.instrument))
    plan.orders.append(planner._order(alert, coid, meta, strategy, entry, route, side, qty, role=OrderRole.EXIT))


def reverse_orders(planner: "Planner", plan: "Plan", alert: Alert, cause: str, strategy: StrategyConfig,
                   entry: TickerConfig, route: TickerDestination) -> None:
    """Cancel the protective orders, close, and open the other side with the alert's quantity."""
    book = planner.book
    held = _position(book, strategy, entry, route)
    if held == 0:
        return
    from station.oms.planner import PlannedOrder

    plan.cancel(protective(book, route.destination, entry.ticker, strategy.name))
    side = Side.SELL if held > 0 else Side.BUY
    meta = OrderMeta(cause, point_value=entry.point_value(route.instrument))
    base = client_order_id(cause, strategy.name, route.destination)
    size = route.size_for(alert.qty)
    if size is None or size <= 0:
        plan.orders.append(PlannedOrder(None, meta, base, route.destination,
                                        "no quantity: the alert has none and the destination has no fixed qty"))
        return
    close = abs(held) - closing_in_flight(book, route.destination, entry.ticker, strategy.name, side)
    planner.reversal(plan, alert, cause, base, meta, strategy, entry, route, side, max(close, ZERO), size)


def cancel_orders(book: Book, plan: "Plan", strategy: StrategyConfig, entry: TickerConfig, destination: str) -> None:
    """Cancel the strategy's open orders in the ticker at this destination."""
    plan.cancel(o.client_order_id for o in book.open_for(destination, entry.ticker, strategy.name))

