"""Tastytrade Open API JSON <-> Station: order bodies, order and position listings, status map. Pure.

Shapes (dasherized keys, answers wrapped in `{"data": …}`): an order is
`{"time-in-force": "Day", "order-type": "Limit", "price": "4.1", "price-effect": "Debit",
"stop-trigger", "external-identifier", "legs": [{"instrument-type", "symbol", "quantity", "action"}]}`;
a listed order adds `id`, `status`, `reject-reason`, `received-at` and per leg
`remaining-quantity` and `fills` (`fill-id`, `quantity`, `fill-price`, `filled-at`).
`external-identifier` carries our client order id, so orders are found by it after a restart.

A bracket is an OTOCO complex order (`POST /accounts/{account}/complex-orders`, the SDK's `NewComplexOrder`):
`{"type": "OTOCO", "trigger-order": <the entry>, "orders": [<target>, <stop>]}`, each an order body as above, the
exits closing what the entry opens. The answer's `data.complex-order` carries `id`, `trigger-order` and `orders`
(each with its own `id`); listed, each component is an order of its own with `complex-order-id` and
`complex-order-tag` (`OTOCO::trigger-order`, `OTOCO::order`), the exits `Contingent` until the entry fills.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from station.brokers.protocol import BracketRefused
from station.brokers.rest.balances import BalanceSnapshot
from station.brokers.rest.symbols import is_future, opens, parse_option, price_text, whole_quantity
from station.brokers.rest.snapshots import Execution, OrderSnapshot, PositionSnapshot, open_or_partial, to_decimal
from station.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from station.domain.orders import OrderRequest
from station.domain.timeutil import parse_utc, utc_now

S = OrderStatus

MAP_ORDER_STATUS: dict[str, OrderStatus] = {
    "Received": S.SUBMITTED,
    "Routed": S.SUBMITTED,
    "In Flight": S.SUBMITTED,
    "Contingent": S.SUBMITTED,
    "Live": S.WORKING,
    "Cancel Requested": S.WORKING,
    "Replace Requested": S.WORKING,
    "Filled": S.FILLED,
    "Cancelled": S.CANCELLED,
    "Expired": S.CANCELLED,
    "Removed": S.CANCELLED,
    "Partially Removed": S.CANCELLED,
    "Rejected": S.REJECTED,
}

MAP_ORDER_TYPE: dict[OrderType, str] = {
    OrderType.MARKET: "Market", OrderType.LIMIT: "Limit", OrderType.STOP: "Stop", OrderType.STOP_LIMIT: "Stop Limit",
}
ORDER_TYPE_FROM = {v: k for k, v in MAP_ORDER_TYPE.items()}
MAP_TIME_IN_FORCE: dict[TimeInForce, str] = {TimeInForce.DAY: "Day", TimeInForce.GTC: "GTC"}

# Leg action by (side, opens a position?); futures take plain Buy/Sell.
ACTION = {(Side.BUY, True): "Buy to Open", (Side.BUY, False): "Buy to Close",
          (Side.SELL, True): "Sell to Open", (Side.SELL, False): "Sell to Close"}
ACTION_SIDE = {**{name: side for (side, _), name in ACTION.items()}, "Buy": Side.BUY, "Sell": Side.SELL}

PRODUCTION_URL = "https://api.tastyworks.com"
SANDBOX_URL = "https://api.cert.tastyworks.com"


def check(request: OrderRequest) -> None:
    """BrokerError for orders Tastytrade cannot take (fractional sizes)."""
    whole_quantity(request.qty, request.symbol)


def instrument_type(symbol: str) -> str:
    """`Future`, `Equity Option` (SPX/SPXW included) or `Equity`, from the symbol's shape."""
    if is_future(symbol):
        return "Future"
    if parse_option(symbol) is not None:
        return "Equity Option"
    return "Equity"


def needs_position(request: OrderRequest) -> bool:
    """Whether the leg action depends on the current position (not for futures)."""
    return not is_future(request.symbol)


def order_json(request: OrderRequest, position: Decimal) -> dict[str, Any]:
    """The body of `POST /accounts/{account}/orders` for `request`."""
    check(request)
    kind = instrument_type(request.symbol)
    option = parse_option(request.symbol)
    if kind == "Future":
        action = "Buy" if request.side is Side.BUY else "Sell"
    else:
        action = ACTION[(request.side, opens(request.side, request.qty, position, request.symbol))]
    body: dict[str, Any] = {
        "time-in-force": MAP_TIME_IN_FORCE[request.tif],
        "order-type": MAP_ORDER_TYPE[request.order_type],
        "external-identifier": request.client_order_id,
        "automated-source": True,
        "legs": [{
            "instrument-type": kind,
            "symbol": option.occ if option else request.symbol.strip().upper(),
            "quantity": whole_quantity(request.qty, request.symbol),
            "action": action,
        }],
    }
    if request.limit_price is not None and request.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        body["price"] = price_text(request.limit_price)
        body["price-effect"] = "Debit" if request.side is Side.BUY else "Credit"
    if request.stop_price is not None and request.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        body["stop-trigger"] = price_text(request.stop_price)
    return body


def check_bracket(entry: OrderRequest, exits: tuple[OrderRequest, ...]) -> None:
    """BracketRefused for a bracket an OTOCO cannot carry: it takes exactly two exits (a stop and a target)."""
    if len(exits) != 2:
        raise BracketRefused(f"Tastytrade takes a bracket as an OTOCO, a stop with a target; {entry.client_order_id} "
                             f"has {len(exits)} exit(s)")


def bracket_json(entry: OrderRequest, exits: tuple[OrderRequest, ...], position: Decimal) -> dict[str, Any]:
    """The body of `POST /accounts/{account}/complex-orders` for an entry with its two exits (an OTOCO), given the
    position before the entry: the exits close what the entry leaves."""
    check_bracket(entry, exits)
    after = position + entry.qty * entry.side.sign
    return {"type": "OTOCO", "trigger-order": order_json(entry, position),
            "orders": [order_json(x, after) for x in exits]}


def placed_bracket_ids(body: Any, entry: OrderRequest, exits: tuple[OrderRequest, ...]) -> dict[str, str]:
    """Client order id -> Tastytrade order id, from the answer to a complex order (`data.complex-order`): the
    trigger is the entry; the others by their `external-identifier`, else in the order sent."""
    placed = (_data(body) or {}).get("complex-order") or {}
    ids: dict[str, str] = {}
    trigger = placed.get("trigger-order") or {}
    if trigger.get("id") is not None:
        ids[entry.client_order_id] = str(trigger["id"])
    for index, order in enumerate(placed.get("orders") or []):
        coid = order.get("external-identifier") or (exits[index].client_order_id if index < len(exits) else None)
        if coid and order.get("id") is not None:
            ids[coid] = str(order["id"])
    return ids


def complex_triggers(body: Any) -> dict[str, str]:
    """Order id -> complex order id of the listed orders that trigger a complex order (cancelled as a whole)."""
    data = _data(body) or {}
    items = data.get("items") if "items" in data else [data]
    return {str(raw["id"]): str(raw["complex-order-id"]) for raw in items or []
            if isinstance(raw, dict) and raw.get("id") is not None and raw.get("complex-order-id") is not None
            and str(raw.get("complex-order-tag", "")).endswith("trigger-order")}


def _time(text: Any):
    try:
        return parse_utc(str(text)) if text else None
    except ValueError:
        return None


def parse_order(raw: dict[str, Any]) -> OrderSnapshot | None:
    """One order, or None for what Station never sends (several legs, an unknown status)."""
    legs = raw.get("legs") or []
    status = MAP_ORDER_STATUS.get(str(raw.get("status", "")))
    if len(legs) != 1 or status is None or raw.get("id") is None:
        return None
    leg = legs[0]
    side = ACTION_SIDE.get(str(leg.get("action", "")))
    if side is None:
        return None
    executions = tuple(
        Execution(fill_id=str(fill.get("fill-id") or f"{raw['id']}-{index}"), qty=to_decimal(fill.get("quantity")),
                  price=to_decimal(fill.get("fill-price")) or Decimal(0), time=_time(fill.get("filled-at")) or utc_now())
        for index, fill in enumerate(leg.get("fills") or []) if (to_decimal(fill.get("quantity")) or 0) > 0)
    qty = to_decimal(leg.get("quantity")) or to_decimal(raw.get("size")) or Decimal(0)
    remaining = to_decimal(leg.get("remaining-quantity"))
    filled = max(sum((e.qty for e in executions), Decimal(0)), qty - remaining if remaining is not None else Decimal(0))
    reason = raw.get("reject-reason") if status is S.REJECTED else None
    return OrderSnapshot(
        broker_order_id=str(raw["id"]),
        symbol=str(leg.get("symbol", "")),
        side=side,
        qty=qty,
        status=open_or_partial(status, filled),
        filled_qty=filled,
        order_type=ORDER_TYPE_FROM.get(str(raw.get("order-type", ""))),
        limit_price=to_decimal(raw.get("price")),
        stop_price=to_decimal(raw.get("stop-trigger")),
        entered_at=_time(raw.get("received-at")) or _time(raw.get("updated-at")),
        client_order_id=raw.get("external-identifier") or None,
        reason=str(reason) if reason else None,
        executions=executions,
    )


def _data(body: Any) -> Any:
    return body.get("data") if isinstance(body, dict) else None


def parse_orders(body: Any) -> list[OrderSnapshot]:
    """`GET /accounts/{account}/orders/live` (today's orders and the live GTC ones)."""
    items = (_data(body) or {}).get("items") or []
    return [snap for raw in items if isinstance(raw, dict) and (snap := parse_order(raw)) is not None]


def placed_order_id(body: Any) -> str | None:
    """The id of the order a `POST …/orders` created (`data.order.id`)."""
    order = (_data(body) or {}).get("order") or {}
    return str(order["id"]) if order.get("id") is not None else None


def parse_positions(body: Any) -> list[PositionSnapshot]:
    """`GET /accounts/{account}/positions`: signed quantity from `quantity-direction`."""
    out = []
    for raw in (_data(body) or {}).get("items") or []:
        qty = to_decimal(raw.get("quantity")) or Decimal(0)
        if str(raw.get("quantity-direction", "")).lower() == "short":
            qty = -abs(qty)
        out.append(PositionSnapshot(symbol=str(raw.get("symbol", "")), qty=qty,
                                    avg_price=to_decimal(raw.get("average-open-price"))))
    return [p for p in out if p.symbol]


def pick_account(body: Any, wanted: str | None) -> str:
    """The account number from `GET /customers/me/accounts`; ValueError says why none fits."""
    numbers = [str(item["account"]["account-number"]) for item in (_data(body) or {}).get("items") or []
               if isinstance(item, dict) and isinstance(item.get("account"), dict)
               and not item["account"].get("is-closed")]
    if not numbers:
        raise ValueError("this Tastytrade login has no open accounts")
    if wanted is None:
        if len(numbers) > 1:
            raise ValueError(f"this Tastytrade login has several accounts ({', '.join(numbers)}); "
                             "name one as the destination's \"account\"")
        return numbers[0]
    if str(wanted).strip() not in numbers:
        raise ValueError(f"account {wanted} is not among this Tastytrade login's accounts ({', '.join(numbers)})")
    return str(wanted).strip()


def parse_balances(body: Any, start_of_day: Any, account: str) -> BalanceSnapshot:
    """`GET /accounts/{n}/balances/USD` and its beginning-of-day snapshot (`/balance-snapshots?time-of-day=BOD`):
    the net liquidating value, the derivative buying power (options and futures, what Station trades) and the
    day's PnL as the net liquidating value's change since the day began."""
    data = (body or {}).get("data") or {}
    items = (((start_of_day or {}).get("data") or {}).get("items") or [])
    balance = to_decimal(data.get("net-liquidating-value"))
    start = to_decimal(items[-1].get("net-liquidating-value")) if items else None
    buying_power = to_decimal(data.get("derivative-buying-power"))
    if buying_power is None:
        buying_power = to_decimal(data.get("equity-buying-power"))
    day = balance - start if balance is not None and start is not None else None
    return BalanceSnapshot(account, balance, buying_power, day, str(data.get("currency") or "USD"))
