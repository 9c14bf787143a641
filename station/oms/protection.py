"""Protecting a position already held (`ProtectPosition`: the Positions dock's Add stop/target, the REST API).

Pure, like the planner: reads the book, makes the exit requests. The exits are a bracket's (`stop_loss` a
stop, `take_profit` a limit, one OCO group) for the part of the position no other OCO group covers yet.
With no entry to wait for, their `parent_id` is an anchor named after the click (`<click's id>-pos`, never
an order): the exit manager works such exits like any armed bracket's, and shrinks or cancels them as
the position shrinks or closes (`ExitManager.on_position`, which reads an absent entry as "the exits' own
size").
"""

from __future__ import annotations

from decimal import Decimal

from station.domain.commands import ProtectPosition
from station.domain.config import RoutingConfig
from station.domain.enums import OrderRole, Side
from station.domain.exits import EXIT_SUFFIX, EXIT_TYPES, level_price, trailing_stop
from station.domain.ids import client_order_id
from station.domain.instructions import ExitLevel
from station.domain.orders import OrderRequest
from station.domain.ticks import round_to_tick, tick_size
from station.oms.book import Book, position_key
from station.oms.brackets import oco_group
from station.oms.manual import ManualError, manual_cause

ZERO = Decimal(0)


def covered(book: Book, destination: str, ticker: str, strategy: str | None) -> Decimal:
    """How much of a position its open protective exits already take back: per OCO group, its largest exit."""
    groups: dict[str, Decimal] = {}
    for order in book.open_for(destination, ticker, strategy):
        if order.request.protective:
            group = order.request.oco_group or order.client_order_id
            groups[group] = max(groups.get(group, ZERO), order.remaining_qty)
    return sum(groups.values(), ZERO)


def protection_exits(command: ProtectPosition, book: Book, config: RoutingConfig) -> list[OrderRequest]:
    """The exits protecting the position the command names; ManualError says why there are none."""
    if command.stop_loss is None and command.take_profit is None and command.trailing_stop is None:
        raise ManualError("give a stop (or a trailing stop), a target or both")
    if command.stop_loss is not None and command.trailing_stop is not None:
        raise ManualError("give a stop or a trailing stop, not both")
    key = position_key(command.destination, command.ticker, command.strategy)
    position = book.positions.get(key)
    where = f"{command.strategy or '(unattributed)'} / {command.ticker} at {command.destination}"
    if position is None or position.is_flat:
        raise ManualError(f"no open position for {where}")
    qty = abs(position.qty) - covered(book, command.destination, position.ticker, command.strategy)
    if qty <= 0:
        raise ManualError(f"the position of {where} is protected in full already (move or cancel its exits)")
    entry_side = Side.BUY if position.qty > 0 else Side.SELL
    tick = _tick(config, command, book.instruments.get(key))
    mark = book.marks.price(position.ticker)
    anchor = f"{client_order_id(manual_cause(command.click_id), command.strategy, command.destination)}-pos"
    exits = []
    for role, level in ((OrderRole.STOP_LOSS, command.stop_loss), (OrderRole.TAKE_PROFIT, command.take_profit)):
        if level is None:
            continue
        price = _price(role, level, entry_side, position.avg_price, tick, mark)
        kind = EXIT_TYPES[role]
        exits.append(OrderRequest(
            client_order_id=f"{anchor}-{EXIT_SUFFIX[role]}", destination=command.destination, ticker=position.ticker,
            side=entry_side.opposite, qty=qty, order_type=kind, limit_price=price if role is OrderRole.TAKE_PROFIT else None,
            stop_price=price if role is OrderRole.STOP_LOSS else None, strategy=command.strategy, price_hint=mark,
            instrument=book.instruments.get(key), role=role, parent_id=anchor, oco_group=oco_group(anchor),
            tick_size=tick))
    if command.trailing_stop is not None:  # it trails the best price from now: the market's, else the average
        best = mark if mark is not None else position.avg_price
        stop = trailing_stop(entry_side, best, command.trailing_stop, tick)
        if stop <= 0:
            raise ManualError("the trailing stop comes to no positive price")
        role = OrderRole.TRAILING_STOP
        exits.append(OrderRequest(
            client_order_id=f"{anchor}-{EXIT_SUFFIX[role]}", destination=command.destination, ticker=position.ticker,
            side=entry_side.opposite, qty=qty, order_type=EXIT_TYPES[role], stop_price=stop, strategy=command.strategy,
            price_hint=best, instrument=book.instruments.get(key), role=role, parent_id=anchor,
            oco_group=oco_group(anchor), offset=command.trailing_stop, tick_size=tick))
    return exits


def _price(role: OrderRole, level: ExitLevel, entry_side: Side, avg: Decimal, tick: Decimal,
           mark: Decimal | None) -> Decimal:
    """The level's price (an offset from the average price), on the tick grid and on the right side of the
    market: a stop below it for a long, a target above it (mirrored for a short), else it would fire at once."""
    price = level_price(role, level, entry_side, avg, tick)
    if price is None or price <= 0:
        raise ManualError(f"the {role.value.replace('_', ' ')} comes to no positive price")
    price = round_to_tick(price, tick)
    reference, what = (mark, "the market") if mark is not None else (avg, "the average price")
    long = entry_side is Side.BUY
    below = long == (role is OrderRole.STOP_LOSS)
    name = "stop" if role is OrderRole.STOP_LOSS else "target"
    if (price >= reference) if below else (price <= reference):
        raise ManualError(f"a {name} for a {'long' if long else 'short'} goes {'below' if below else 'above'} {what} "
                          f"({_plain(reference)}), not at {_plain(price)}")
    return price


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _tick(config: RoutingConfig, command: ProtectPosition, instrument: str | None) -> Decimal:
    strategy = config.strategy(command.strategy) if command.strategy else None
    entry = strategy.ticker(command.ticker) if strategy else None
    return tick_size(command.ticker, instrument, entry.options.get("tick_size") if entry else None)
