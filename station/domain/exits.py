"""A bracket's protective exits priced from their entry: where a stop-loss, take-profit or trailing stop stands.

Pure: the oms's exit manager and the planner call these with the entry's fill (or expected) price.
"""

from __future__ import annotations

from decimal import Decimal

from station.domain.enums import OrderRole, OrderType, Side
from station.domain.instructions import ExitLevel, Offset
from station.domain.ticks import round_to_tick

# the order type each protective role is worked as
EXIT_TYPES = {OrderRole.STOP_LOSS: OrderType.STOP, OrderRole.TAKE_PROFIT: OrderType.LIMIT,
              OrderRole.TRAILING_STOP: OrderType.TRAILING_STOP}
# the suffix of an exit's client order id after its entry's
EXIT_SUFFIX = {OrderRole.STOP_LOSS: "sl", OrderRole.TAKE_PROFIT: "tp", OrderRole.TRAILING_STOP: "ts"}


def exit_price(role: OrderRole, entry_side: Side, entry_price: Decimal, offset: Offset, tick: Decimal | None) -> Decimal:
    """The price of an exit `offset` away from `entry_price` on its side: a stop (or trailing stop) on the losing
    side of the entry, a target on the winning side; on the tick grid."""
    distance = offset.distance(entry_price, tick)
    winning = role is OrderRole.TAKE_PROFIT
    up = (entry_side is Side.BUY) == winning
    price = entry_price + distance if up else entry_price - distance
    return round_to_tick(price, tick) if tick else price


def level_price(role: OrderRole, level: ExitLevel, entry_side: Side, entry_price: Decimal | None,
                tick: Decimal | None) -> Decimal | None:
    """An exit level's price: its own, or its offset from `entry_price` (None while that is unknown)."""
    if level.price is not None:
        return level.price
    if entry_price is None:
        return None
    return exit_price(role, entry_side, entry_price, level.offset, tick)


def trailing_stop(entry_side: Side, best: Decimal, offset: Offset, tick: Decimal | None) -> Decimal:
    """Where a trailing stop stands when the best price since its entry filled is `best`."""
    return exit_price(OrderRole.TRAILING_STOP, entry_side, best, offset, tick)


def crossed(role: OrderRole, exit_side: Side, level: Decimal, price: Decimal) -> bool:
    """A trade at `price` reaches an exit working at `level`: a sell stop at or below it, a sell target at or
    above it (mirrored for buys)."""
    if role is OrderRole.TAKE_PROFIT:
        return price >= level if exit_side is Side.SELL else price <= level
    return price <= level if exit_side is Side.SELL else price >= level
