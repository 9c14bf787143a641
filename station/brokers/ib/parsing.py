"""IB's wire vocabulary ↔ Station's domain: statuses, sides, order types, error codes, unset values.

Pure lookups and conversions, testable without a socket and without importing
ib_async (its "unset" sentinels are repeated here as plain numbers).
"""

from __future__ import annotations

import math
import sys
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from station.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from station.domain.orders import OrderRequest

UNSET_DOUBLE = sys.float_info.max  # ib_async.util.UNSET_DOUBLE
UNSET_INTEGER = 2**31 - 1  # ib_async.util.UNSET_INTEGER

# IB order status -> Station status; None: no change worth reporting (in flight, or a local echo).
MAP_ORDER_STATUS: dict[str, OrderStatus | None] = {
    "PendingSubmit": None,  # ib_async's own status before TWS answers
    "ApiPending": None,
    "PreSubmitted": OrderStatus.WORKING,  # accepted, held (stop not triggered, bracket child, outside hours)
    "Submitted": OrderStatus.WORKING,
    "ApiUpdate": None,
    "PendingCancel": None,  # asked to cancel; the result follows
    "ValidationError": None,  # a warning about a live order (ib_async's status); the order still works
    "ApiCancelled": OrderStatus.CANCELLED,
    "Cancelled": OrderStatus.CANCELLED,
    "Inactive": OrderStatus.REJECTED,  # IB refused or deactivated it; the error text says why
    "Filled": OrderStatus.FILLED,
}

SIDE_TO_ACTION = {Side.BUY: "BUY", Side.SELL: "SELL"}
# orders say BUY/SELL; executions say BOT/SLD
ACTION_TO_SIDE = {"BUY": Side.BUY, "SELL": Side.SELL, "BOT": Side.BUY, "SLD": Side.SELL}
ORDER_TYPE_TO_IB = {OrderType.MARKET: "MKT", OrderType.LIMIT: "LMT", OrderType.STOP: "STP",
                    OrderType.STOP_LIMIT: "STP LMT", OrderType.TRAILING_STOP: "TRAIL"}
IB_TO_ORDER_TYPE = {v: k for k, v in ORDER_TYPE_TO_IB.items()}
TIF_TO_IB = {TimeInForce.DAY: "DAY", TimeInForce.GTC: "GTC"}

# Error codes (https://interactivebrokers.github.io/tws-api/message_codes.html), by what they mean for us.
CANCEL_CODES = frozenset({202})  # "Order Canceled - reason: …" (a cancel we or TWS made)
LINK_LOST_CODES = frozenset({1100, 2110})  # TWS lost its own link to IB's servers
LINK_RESTORED_CODES = frozenset({1101, 1102})  # 1101: data lost (resubscribe); 1102: data kept
RESUBSCRIBE_CODES = frozenset({1101})
# Farm and data-status notices TWS sends on every connect; information, not trouble.
INFO_CODES = frozenset({2100, 2103, 2104, 2105, 2106, 2107, 2108, 2119, 2150, 2158, 10167})
# Warnings about a live order: it keeps working (ib_async treats the same codes as warnings).
ORDER_WARNING_CODES = frozenset({105, 110, 165, 321, 329, 399, 404, 434, 492})
NO_CONTRACT_CODE = 200
DUPLICATE_ORDER_ID_CODE = 103
CLIENT_ID_IN_USE_CODE = 326


def classify_error(code: int) -> str:
    """What an error code means: info, warning, link_lost, link_restored, cancel, client_id, or error."""
    if code in INFO_CODES:
        return "info"
    if code in LINK_LOST_CODES:
        return "link_lost"
    if code in LINK_RESTORED_CODES:
        return "link_restored"
    if code in CANCEL_CODES:
        return "cancel"
    if code == CLIENT_ID_IN_USE_CODE:
        return "client_id"
    if code in ORDER_WARNING_CODES or 2100 <= code < 2200:
        return "warning"
    return "error"


def clean_float(value: Any) -> float | None:
    """A usable number, or None for IB's unset sentinels, NaN, infinities and blanks."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number >= UNSET_DOUBLE or number == UNSET_INTEGER:
        return None
    return number


def to_decimal(value: Any) -> Decimal | None:
    """An IB number as a Decimal (via its shortest repr, so 101.1 stays 101.1), or None when unset."""
    number = clean_float(value)
    if number is None:
        return None
    try:
        return Decimal(repr(number))
    except InvalidOperation:  # pragma: no cover - repr of a finite float always parses
        return None


def ib_price(value: Decimal | None) -> float | None:
    """A price for an ib_async Order field (None leaves it unset)."""
    return None if value is None else float(value)


def order_fields(request: OrderRequest, *, account: str | None) -> dict[str, Any]:
    """The ib_async `Order` fields for a request: action, size, type, prices, TIF, orderRef, account."""
    fields: dict[str, Any] = {
        "action": SIDE_TO_ACTION[request.side],
        "totalQuantity": float(request.qty),
        "orderType": ORDER_TYPE_TO_IB[request.order_type],
        "tif": TIF_TO_IB[request.tif],
        "orderRef": request.client_order_id,
    }
    if request.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        fields["lmtPrice"] = ib_price(request.limit_price)
    if request.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        fields["auxPrice"] = ib_price(request.stop_price)
    if request.order_type is OrderType.TRAILING_STOP:
        fields.update(trail_fields(request))
    if account:
        fields["account"] = account
    return fields


def trail_fields(request: OrderRequest) -> dict[str, Any]:
    """A TRAIL order's trail: `auxPrice` the trailing amount (ticks or points), or `trailingPercent`. Its stop
    (`trailStopPrice`) is left for TWS to set from the market when the order goes live (a bracket's child: when its
    entry fills), so it follows the best price since then; a change sets it (`replace`)."""
    offset = request.offset
    if offset is None:
        raise ValueError(f"{request.client_order_id}: a trailing stop needs its trail")
    if offset.unit == "percent":
        return {"trailingPercent": float(offset.value)}
    return {"auxPrice": float(offset.distance(Decimal(0), request.tick_size))}


def status_of(ib_status: str, filled: float, remaining: float) -> OrderStatus | None:
    """Station's status for an IB status report; a working order with fills is partially filled."""
    if ib_status not in MAP_ORDER_STATUS:
        return None
    status = MAP_ORDER_STATUS[ib_status]
    if status is OrderStatus.WORKING and (clean_float(filled) or 0) > 0 and (clean_float(remaining) or 0) > 0:
        return OrderStatus.PARTIALLY_FILLED
    return status


def reject_reason(message: str, code: int | None) -> str:
    """IB's own words for a refusal, with the code the trader can look up."""
    text = " ".join(str(message).split())
    # ib_async prefixes its log text with "Error 201, reqId 7: …"; keep IB's sentence only.
    if text.startswith(("Error ", "Warning ")) and ": " in text:
        text = text.split(": ", 1)[1]
    if ", contract: " in text:
        text = text.split(", contract: ", 1)[0]
    return f"IB {code}: {text}" if code else text


def fill_time(value: datetime | None, fallback: datetime) -> datetime:
    """An execution's time, aware and in UTC (IB sends local TWS time; ib_async attaches the zone)."""
    if value is None or value.tzinfo is None or value.year < 2000:
        return fallback
    return value.astimezone(timezone.utc)


def average_price(avg_cost: float, sec_type: str, multiplier: str | float | None) -> Decimal | None:
    """A position's average price per unit: IB's avgCost includes the multiplier for derivatives."""
    cost = to_decimal(avg_cost)
    if cost is None:
        return None
    if sec_type in ("FUT", "OPT", "FOP"):
        factor = to_decimal(multiplier) if multiplier not in (None, "") else None
        if factor:
            return cost / factor
    return cost


def display_symbol(sec_type: str, symbol: str, local_symbol: str = "", expiry: str = "",
                   strike: float | None = None, right: str = "", trading_class: str = "") -> str:
    """A name for a contract nobody mapped: the stock symbol, a future's local symbol, an option as written."""
    if sec_type == "OPT" and expiry and strike is not None and right:
        day = date(int(expiry[:4]), int(expiry[4:6]), int(expiry[6:8]))
        value = Decimal(repr(float(strike))).normalize()
        return f"{trading_class or symbol} {day:%Y-%m-%d} {value:f}{right[0]}"
    if sec_type == "FUT" and local_symbol:
        return local_symbol
    return symbol.replace(" ", ".") if sec_type == "STK" else symbol
