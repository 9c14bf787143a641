"""Schwab Trader API JSON <-> Station: order bodies, order and position listings, status map. Pure.

Shapes (Schwab Trader API, `/trader/v1`): an order is
`{"orderType", "session", "duration", "orderStrategyType": "SINGLE", "price", "stopPrice",
"orderLegCollection": [{"instruction", "quantity", "instrument": {"symbol", "assetType"}}]}`;
a listed order adds `orderId`, `status`, `statusDescription`, `enteredTime`, `filledQuantity` and
`orderActivityCollection` (EXECUTION activities with `executionLegs`: quantity, price, time).
Schwab keeps no client order id, so orders are matched by their Schwab `orderId`.

A bracket is a TRIGGER order (schwab-py's `first_triggers_second`): the entry with `"orderStrategyType":
"TRIGGER"` and `childOrderStrategies` holding its exit (a SINGLE order) or its two exits in one
`{"orderStrategyType": "OCO", "childOrderStrategies": [<target>, <stop>]}` (`one_cancels_other`), as the
"One Triggers A One Cancels Another" sample of Schwab's order guide. The `Location` of the 201 names the entry;
listed, the entry carries its OCO and exits nested, each with its own `orderId` and `status`
(`AWAITING_PARENT_ORDER` until the entry fills). A trailing stop is `"orderType": "TRAILING_STOP"` with
`stopPriceLinkBasis` (`BID` for a sell, `ASK` for a buy), `stopPriceLinkType` (`VALUE` or `PERCENT`) and
`stopPriceOffset`, as the guide's "Sell Trailing Stop" sample.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from station.brokers.protocol import BracketRefused, BrokerError
from station.brokers.rest.balances import BalanceSnapshot
from station.brokers.rest.symbols import is_future, opens, parse_option, price_text, whole_quantity
from station.brokers.rest.snapshots import Execution, OrderSnapshot, PositionSnapshot, open_or_partial, to_decimal
from station.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from station.domain.orders import OrderRequest
from station.domain.timeutil import UTC, parse_utc

S = OrderStatus

MAP_ORDER_STATUS: dict[str, OrderStatus] = {
    "NEW": S.SUBMITTED,
    "PENDING_ACKNOWLEDGEMENT": S.SUBMITTED,
    "ACCEPTED": S.SUBMITTED,
    "QUEUED": S.SUBMITTED,
    "PENDING_ACTIVATION": S.SUBMITTED,
    "AWAITING_PARENT_ORDER": S.SUBMITTED,
    "AWAITING_CONDITION": S.SUBMITTED,
    "AWAITING_MANUAL_REVIEW": S.SUBMITTED,
    "AWAITING_UR_OUT": S.SUBMITTED,
    "AWAITING_RELEASE_TIME": S.SUBMITTED,
    "AWAITING_STOP_CONDITION": S.WORKING,
    "WORKING": S.WORKING,
    "PENDING_CANCEL": S.WORKING,
    "PENDING_REPLACE": S.WORKING,
    "PENDING_RECALL": S.WORKING,
    "FILLED": S.FILLED,
    "CANCELED": S.CANCELLED,
    "EXPIRED": S.CANCELLED,
    "REPLACED": S.CANCELLED,
    "REJECTED": S.REJECTED,
}

MAP_ORDER_TYPE: dict[OrderType, str] = {
    OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP: "STOP", OrderType.STOP_LIMIT: "STOP_LIMIT",
    OrderType.TRAILING_STOP: "TRAILING_STOP",
}
ORDER_TYPE_FROM = {v: k for k, v in MAP_ORDER_TYPE.items()}
MAP_DURATION: dict[TimeInForce, str] = {TimeInForce.DAY: "DAY", TimeInForce.GTC: "GOOD_TILL_CANCEL"}

# Instruction by (side, opens a position?) for equities and for options.
EQUITY_INSTRUCTION = {(Side.BUY, True): "BUY", (Side.BUY, False): "BUY_TO_COVER",
                      (Side.SELL, True): "SELL_SHORT", (Side.SELL, False): "SELL"}
OPTION_INSTRUCTION = {(Side.BUY, True): "BUY_TO_OPEN", (Side.BUY, False): "BUY_TO_CLOSE",
                      (Side.SELL, True): "SELL_TO_OPEN", (Side.SELL, False): "SELL_TO_CLOSE"}
INSTRUCTION_SIDE = {name: side for table in (EQUITY_INSTRUCTION, OPTION_INSTRUCTION) for (side, _), name in table.items()}

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.000Z"


def check(request: OrderRequest) -> None:
    """BrokerError for orders Schwab's Trader API cannot take."""
    if is_future(request.symbol):
        raise BrokerError(f"Schwab's Trader API takes no futures orders ({request.symbol}); "
                          "send futures to a tastytrade, ib or NinjaTrader destination")
    whole_quantity(request.qty, request.symbol)


def order_json(request: OrderRequest, position: Decimal) -> dict[str, Any]:
    """The body of `POST /accounts/{hash}/orders` for `request`, given the current position in its symbol."""
    check(request)
    option = parse_option(request.symbol)
    opening = opens(request.side, request.qty, position, request.symbol)
    table = OPTION_INSTRUCTION if option else EQUITY_INSTRUCTION
    body: dict[str, Any] = {
        "orderType": MAP_ORDER_TYPE[request.order_type],
        "session": "NORMAL",
        "duration": MAP_DURATION[request.tif],
        "orderStrategyType": "SINGLE",
        "orderLegCollection": [{
            "instruction": table[(request.side, opening)],
            "quantity": whole_quantity(request.qty, request.symbol),
            "instrument": {"symbol": option.occ if option else request.symbol.strip().upper(),
                           "assetType": "OPTION" if option else "EQUITY"},
        }],
    }
    if request.limit_price is not None and request.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        body["price"] = price_text(request.limit_price)
    if request.stop_price is not None and request.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        body["stopPrice"] = price_text(request.stop_price)
    if request.order_type is OrderType.TRAILING_STOP:
        body.update(trailing_fields(request))
    return body


def trailing_fields(request: OrderRequest) -> dict[str, Any]:
    """A trailing stop's trail: linked to the bid (a sell) or the ask (a buy), by a value or a percentage (a trail
    in ticks is sent as its value)."""
    offset = request.offset
    if offset is None:
        raise BrokerError(f"{request.client_order_id}: a trailing stop needs its trail")
    if offset.unit == "ticks" and request.tick_size is None:
        raise BrokerError(f"{request.client_order_id}: a trail in ticks needs the instrument's tick size")
    percent = offset.unit == "percent"
    value = offset.value if percent else offset.distance(Decimal(0), request.tick_size)
    return {"stopPriceLinkBasis": "BID" if request.side is Side.SELL else "ASK",
            "stopPriceLinkType": "PERCENT" if percent else "VALUE", "stopPriceOffset": float(value)}


def check_bracket(entry: OrderRequest, exits: tuple[OrderRequest, ...]) -> None:
    """BracketRefused for a bracket a TRIGGER cannot carry (one exit, or two in one OCO)."""
    if not 1 <= len(exits) <= 2:
        raise BracketRefused(f"Schwab takes a bracket's exits as one order or one OCO pair, not {len(exits)}")


def bracket_json(entry: OrderRequest, exits: tuple[OrderRequest, ...], position: Decimal) -> dict[str, Any]:
    """The body of `POST /accounts/{hash}/orders` for an entry with its exits: a TRIGGER whose child is the exit, or
    an OCO of the two; the exits' instructions close what the entry leaves (`position` is before the entry)."""
    check_bracket(entry, exits)
    after = position + entry.qty * entry.side.sign
    children = [order_json(x, after) for x in exits]
    body = order_json(entry, position)
    body["orderStrategyType"] = "TRIGGER"
    body["childOrderStrategies"] = children if len(children) == 1 else [
        {"orderStrategyType": "OCO", "childOrderStrategies": children}]
    return body


def order_id_from_location(location: str | None) -> str | None:
    """The new order's id from the `Location` header of a 201 (`…/orders/1000321`)."""
    if not location:
        return None
    tail = location.rstrip("/").rsplit("/", 1)[-1]
    return tail if tail.isdigit() else None


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_utc(text)
    except ValueError:
        return None


def parse_order(raw: dict[str, Any], parent_id: str | None = None) -> OrderSnapshot | None:
    """One listed order, or None for what Station never sends (multi-leg, unknown status, an OCO's wrapper);
    `parent_id` is the TRIGGER order it is nested in."""
    legs = raw.get("orderLegCollection") or []
    status = MAP_ORDER_STATUS.get(str(raw.get("status", "")).upper())
    if len(legs) != 1 or status is None or raw.get("orderId") is None:
        return None
    leg = legs[0]
    side = INSTRUCTION_SIDE.get(str(leg.get("instruction", "")).upper())
    if side is None:
        return None
    order_id = str(raw["orderId"])
    executions = []
    for index, activity in enumerate(raw.get("orderActivityCollection") or []):
        if activity.get("activityType") != "EXECUTION":
            continue
        activity_id = activity.get("activityId", f"a{index}")
        for leg_index, execution in enumerate(activity.get("executionLegs") or []):
            qty = to_decimal(execution.get("quantity")) or Decimal(0)
            if qty <= 0:
                continue
            executions.append(Execution(
                fill_id=f"{order_id}-{activity_id}-{leg_index}", qty=qty, price=to_decimal(execution.get("price")) or Decimal(0),
                time=parse_time(execution.get("time")) or parse_time(raw.get("closeTime")) or datetime.now(UTC)))
    filled = to_decimal(raw.get("filledQuantity")) or sum((e.qty for e in executions), Decimal(0))
    reason = raw.get("statusDescription") if status in (S.REJECTED, S.CANCELLED) else None
    return OrderSnapshot(
        broker_order_id=order_id,
        symbol=str(leg.get("instrument", {}).get("symbol", "")),
        side=side,
        qty=to_decimal(leg.get("quantity")) or to_decimal(raw.get("quantity")) or Decimal(0),
        status=open_or_partial(status, filled),
        filled_qty=filled,
        order_type=ORDER_TYPE_FROM.get(str(raw.get("orderType", "")).upper()),
        limit_price=to_decimal(raw.get("price")),
        stop_price=to_decimal(raw.get("stopPrice")),
        entered_at=parse_time(raw.get("enteredTime")),
        reason=str(reason) if reason else None,
        executions=tuple(executions),
        parent_broker_id=parent_id,
    )


def parse_orders(body: Any) -> list[OrderSnapshot]:
    """`GET /accounts/{hash}/orders` (a list of orders), a TRIGGER's nested exits as orders of their own, once
    each (an exit also listed on its own is not counted twice)."""
    found: dict[str, OrderSnapshot] = {}
    for raw in body or []:
        if isinstance(raw, dict):
            for snap in _with_children(raw, None):
                if snap.broker_order_id not in found or snap.parent_broker_id is not None:
                    found[snap.broker_order_id] = snap
    return list(found.values())


def _with_children(raw: dict[str, Any], parent_id: str | None) -> list[OrderSnapshot]:
    """An order and what it carries nested (an OCO's pair hangs from the TRIGGER above it)."""
    snap = parse_order(raw, parent_id)
    out = [snap] if snap is not None else []
    top = parent_id or (str(raw["orderId"]) if raw.get("orderStrategyType") == "TRIGGER" and raw.get("orderId")
                        is not None else None)
    for child in raw.get("childOrderStrategies") or []:
        if isinstance(child, dict):
            out += _with_children(child, top)
    return out


def parse_positions(body: Any) -> list[PositionSnapshot]:
    """`GET /accounts/{hash}?fields=positions`: signed quantity (long − short) per symbol."""
    account = (body or {}).get("securitiesAccount") or {}
    out = []
    for raw in account.get("positions") or []:
        symbol = (raw.get("instrument") or {}).get("symbol")
        if not symbol:
            continue
        qty = (to_decimal(raw.get("longQuantity")) or Decimal(0)) - (to_decimal(raw.get("shortQuantity")) or Decimal(0))
        out.append(PositionSnapshot(symbol=str(symbol), qty=qty, avg_price=to_decimal(raw.get("averagePrice"))))
    return out


def pick_account(body: Any, wanted: str | None) -> tuple[str, str]:
    """(account number, hashValue) from `GET /accounts/accountNumbers`; ValueError says why none fits."""
    accounts = [(str(a.get("accountNumber")), str(a.get("hashValue"))) for a in body or [] if isinstance(a, dict)]
    if not accounts:
        raise ValueError("this Schwab login has no accounts enabled for the API")
    if wanted is None:
        if len(accounts) > 1:
            raise ValueError("this Schwab login has several accounts (" + ", ".join(mask(n) for n, _ in accounts)
                             + "); name one as the destination's \"account\"")
        return accounts[0]
    for number, hashed in accounts:
        if number == str(wanted).strip():
            return number, hashed
    raise ValueError(f"account {mask(str(wanted))} is not among this Schwab login's accounts ("
                     + ", ".join(mask(n) for n, _ in accounts) + ")")


def mask(number: str) -> str:
    """An account number as shown to the trader: its last four digits."""
    return f"…{number[-4:]}"


def parse_balances(body: Any, account: str) -> BalanceSnapshot:
    """`GET /accounts/{hash}` (balances are shown by default): the liquidation value now, the buying power, and
    the day's PnL as the change of the liquidation value since the start of the day (`initialBalances`)."""
    securities = (body or {}).get("securitiesAccount") or {}
    current, initial = securities.get("currentBalances") or {}, securities.get("initialBalances") or {}
    balance = to_decimal(current.get("liquidationValue"))
    if balance is None:
        balance = to_decimal(((body or {}).get("aggregatedBalance") or {}).get("currentLiquidationValue"))
    start = to_decimal(initial.get("liquidationValue"))
    if start is None:
        start = to_decimal(initial.get("accountValue"))
    buying_power = to_decimal(current.get("buyingPower"))
    if buying_power is None:  # a cash account has no margin buying power: what it can trade with
        buying_power = to_decimal(current.get("cashAvailableForTrading"))
    day = balance - start if balance is not None and start is not None else None
    return BalanceSnapshot(account, balance, buying_power, day)
