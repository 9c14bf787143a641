"""A bracket's protective exits, planned with their entry: held until it fills, one OCO group.

Pure. Each exit is an order of its own (`<entry id>-sl`, `-tp`, `-ts`) on the other side, for the entry's
quantity, `parent_id` the entry and `oco_group` `<entry id>-oco`. An exit given as an offset carries it
(`offset`, with the instrument's `tick_size`) and a price provisionally resolved from the entry's expected
price (its limit or stop, else the alert's price or the mark), so a destination with native brackets can
take it with the entry; the exit manager prices it from the actual fill when the entry fills.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from station.domain.enums import OrderRole, OrderType
from station.domain.exits import EXIT_SUFFIX, EXIT_TYPES, exit_price
from station.domain.instructions import ExitLevel, Offset, OrderInstructions
from station.domain.orders import OrderRequest


def expected_price(entry: OrderRequest, fallback: Decimal | None) -> Decimal | None:
    """The price the entry is expected to fill at: its limit, its stop, else `fallback` (the alert's, the mark)."""
    if entry.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and entry.limit_price is not None:
        return entry.limit_price
    if entry.order_type is OrderType.STOP and entry.stop_price is not None:
        return entry.stop_price
    return fallback


def oco_group(entry_id: str) -> str:
    return f"{entry_id}-oco"


def bracket_exits(entry: OrderRequest, instructions: OrderInstructions, tick: Decimal,
                  reference: Decimal | None) -> list[OrderRequest]:
    """The held exits of `entry` for the stop-loss, take-profit and trailing stop the instructions give."""
    levels: list[tuple[OrderRole, ExitLevel | Offset]] = []
    if instructions.stop_loss is not None:
        levels.append((OrderRole.STOP_LOSS, instructions.stop_loss))
    if instructions.take_profit is not None:
        levels.append((OrderRole.TAKE_PROFIT, instructions.take_profit))
    if instructions.trailing_stop is not None:
        levels.append((OrderRole.TRAILING_STOP, instructions.trailing_stop))
    exits = []
    for role, level in levels:
        offset = level if isinstance(level, Offset) else level.offset
        price = level.price if isinstance(level, ExitLevel) and level.price is not None else (
            None if reference is None else exit_price(role, entry.side, reference, offset, tick))
        kind = EXIT_TYPES[role]
        exits.append(OrderRequest(
            client_order_id=f"{entry.client_order_id}-{EXIT_SUFFIX[role]}", destination=entry.destination,
            ticker=entry.ticker, side=entry.side.opposite, qty=entry.qty, order_type=kind,
            limit_price=price if kind is OrderType.LIMIT else None,
            stop_price=price if kind is not OrderType.LIMIT else None, tif=entry.tif, strategy=entry.strategy,
            alert_id=entry.alert_id, price_hint=reference, instrument=entry.instrument, role=role,
            parent_id=entry.client_order_id, oco_group=oco_group(entry.client_order_id), offset=offset,
            tick_size=tick, created_at=entry.created_at))
    return exits


def armed(exit_request: OrderRequest, entry_side, qty: Decimal, fill_price: Decimal | None) -> OrderRequest:
    """An exit as it goes to work once its entry filled `qty` at `fill_price`: that size, and an offset priced
    from the fill (a price given as such stays)."""
    changes: dict = {"qty": qty}
    if exit_request.offset is not None and fill_price is not None:
        price = exit_price(exit_request.role, entry_side, fill_price, exit_request.offset, exit_request.tick_size)
        if exit_request.order_type is OrderType.LIMIT:
            changes["limit_price"] = price
        else:
            changes["stop_price"] = price
        changes["price_hint"] = fill_price
    return dataclasses.replace(exit_request, **changes)
