"""NinjaTrader wire formats, pure: TCP port lines, ATI order instruction lines, ATI update files.

Formats (see ../shared/CONTRACT.md "NinjaTrader" and NinjaTrader 8 help, Automated
Trading Interface > File Interface):
- a port line is one JSON object and `\\n`;
- an OIF line is `COMMAND;ACCOUNT;INSTRUMENT;ACTION;QTY;ORDER TYPE;LIMIT PRICE;STOP PRICE;
  TIF;OCO ID;ORDER ID;STRATEGY;STRATEGY ID` (13 fields, unused ones empty, unused prices 0);
- an order state file `<ORDER ID>.txt` holds `Order State;Filled Amount;Average Fill Price`;
- a position file `<INSTRUMENT> <EXCHANGE>_<ACCOUNT>_Position.txt` holds
  `Market Position;Quantity;Average Entry Price` with LONG, SHORT or FLAT;
- a connection state file `<CONNECTION NAME>.txt` holds CONNECTED or DISCONNECTED.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from station.domain.enums import OrderStatus, OrderType, TimeInForce
from station.domain.instructions import FIELDS as INSTRUCTIONS
from station.domain.orders import OrderRequest
from station.domain.timeutil import to_eastern

S = OrderStatus

# ---- TCP port lines ---------------------------------------------------------------------------


def json_number(value: Decimal | None) -> int | float | None:
    """A Decimal as the plainest JSON number: an int when whole, else a float."""
    if value is None:
        return None
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    return int(value) if value == value.to_integral_value() else float(value)


def eastern_iso(value: datetime) -> str:
    """`2024-01-04T10:30:00-05:00`: US/Eastern with the offset in force that day, to the second."""
    return to_eastern(value).isoformat(timespec="seconds")


def port_fields(request: OrderRequest) -> dict[str, Any]:
    """The fields of the line a NinjaTrader port gets for `request` (from its alert when it has one).

    Fields a dialect does not carry are None (JSON null); `ticker1`, `hedge` and
    `ticker2` are present only for a spread alert. The order instructions (`order_type`,
    `limit_price`, `stop_price`, `tif`, `stop_loss`, `take_profit`, `trailing_stop`) are the
    alert's, None when not given; `action` may be `exit`, `reverse` or `cancel`.
    """
    alert = request.alert
    if alert is None:  # a close, a flatten, or an exit Station worked itself and now sends at market
        price = request.limit_price if request.limit_price is not None else request.price_hint
        fields = {
            "id": request.client_order_id, "alert_id": request.alert_id, "strategy": request.strategy,
            "ticker": request.ticker, "action": request.side.value, "qty": json_number(request.qty),
            "price": json_number(price), "position": None, "target_position": None, "trade_id": None,
            "time": eastern_iso(request.created_at),
            "order_type": request.order_type.value, "limit_price": json_number(request.limit_price),
            "stop_price": json_number(request.stop_price), "tif": request.tif.value,
            "stop_loss": None, "take_profit": None, "trailing_stop": None,
        }
        return fields
    fields = {
        "id": request.client_order_id,
        "alert_id": request.alert_id if request.alert_id is not None else alert.alert_id,
        "strategy": request.strategy or alert.strategy,
        "ticker": alert.ticker,
        "action": alert.action.value,
        "qty": json_number(alert.qty),
        "price": json_number(alert.price),
        "position": alert.position,
        "target_position": alert.target_position,
        "trade_id": alert.trade_id,
        "time": eastern_iso(alert.sent_at or alert.received_at),
        **(alert.instructions.line_fields() if alert.instructions is not None else dict.fromkeys(INSTRUCTIONS)),
    }
    if alert.spread is not None:
        fields["ticker1"] = alert.spread.ticker1
        fields["hedge"] = json_number(alert.spread.hedge)
        fields["ticker2"] = alert.spread.ticker2
    return fields


def port_line(request: OrderRequest) -> bytes:
    """The exact bytes written to a port for `request`: one JSON object and `\\n` (UTF-8)."""
    return (json.dumps(port_fields(request), allow_nan=False) + "\n").encode("utf-8")


# ---- ATI order instruction files -------------------------------------------------------------

OIF_ORDER_TYPES = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP: "STOPMARKET",
    OrderType.STOP_LIMIT: "STOPLIMIT",
}
OIF_TIF = {TimeInForce.DAY: "DAY", TimeInForce.GTC: "GTC"}


def _field(value: str, name: str) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError(f"OIF {name} is empty")
    if any(c in text for c in ";\r\n"):
        raise ValueError(f"OIF {name} {text!r} may not contain ';' or a line break")
    return text


def oif_price(value: Decimal | None) -> str:
    """A price in US decimal format (`5000.25`); 0 when the order type uses none."""
    if value is None:
        return "0"
    if not value.is_finite() or value < 0:
        raise ValueError(f"OIF price {value} is not a usable price")
    return format(value.normalize(), "f")


def oif_qty(value: Decimal) -> str:
    """A whole, positive quantity: the ATI takes integers only."""
    if value <= 0 or value != value.to_integral_value():
        raise ValueError(f"NinjaTrader ATI quantities are whole numbers, got {value}")
    return str(int(value))


def request_role(request: OrderRequest) -> str:
    """What an order is for: `entry`, `exit` (closes the position), `stop_loss`, `take_profit`,
    `trailing_stop` (CONTRACT.md's `role`)."""
    return request.role.value


def request_oco(request: OrderRequest) -> str | None:
    """The OCO group an order shares with its siblings (a bracket's exits), or None.

    The hook for the order model's `oco_group` (CONTRACT.md): NinjaTrader's ATI links orders that
    carry the same OCO ID in PLACE, so a bracket's exits go out as one group once the model says so."""
    group = getattr(request, "oco_group", None)
    return str(group) if group else None


def oif_place(request: OrderRequest, account: str, *, order_type: OrderType | None = None,
              tif: TimeInForce | None = None, limit_price: Decimal | None = None) -> str:
    """`PLACE;<ACCOUNT>;<INSTRUMENT>;<BUY|SELL>;<QTY>;<TYPE>;<LIMIT>;<STOP>;<TIF>;<OCO ID>;<ORDER ID>;;`.

    INSTRUMENT is the request's destination instrument, else its ticker; ORDER ID its
    client order id; OCO ID its OCO group (empty without one). `order_type`, `tif` and
    `limit_price` override the request's.
    """
    kind = order_type or request.order_type
    limit = limit_price if limit_price is not None else request.limit_price
    if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) and limit is None:
        raise ValueError(f"a {kind} order needs a limit price")
    uses_limit = kind in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    uses_stop = kind in (OrderType.STOP, OrderType.STOP_LIMIT)
    fields = [
        "PLACE",
        _field(account, "account"),
        _field(request.symbol, "instrument"),
        "BUY" if request.side.value == "buy" else "SELL",
        oif_qty(request.qty),
        OIF_ORDER_TYPES[kind],
        oif_price(limit if uses_limit else None),
        oif_price(request.stop_price if uses_stop else None),
        OIF_TIF[tif or request.tif],
        _field(oco, "OCO ID") if (oco := request_oco(request)) else "",
        _field(request.client_order_id, "order id"),
        "",
        "",
    ]
    return ";".join(fields)


def oif_change(request: OrderRequest) -> str:
    """`CHANGE;;;;<QTY>;;<LIMIT>;<STOP>;;;<ORDER ID>;;`: the working order's new quantity and prices
    (NinjaTrader's ATI CHANGE; a price the order type does not use is 0, as in PLACE)."""
    uses_limit = request.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    uses_stop = request.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
    return ";".join(["CHANGE", "", "", "", oif_qty(request.qty), "",
                     oif_price(request.limit_price if uses_limit else None),
                     oif_price(request.stop_price if uses_stop else None), "", "",
                     _field(request.client_order_id, "order id"), "", ""])


def oif_cancel(client_order_id: str) -> str:
    """`CANCEL;;;;;;;;;;<ORDER ID>;;` (NinjaTrader's ATI CANCEL command)."""
    return "CANCEL" + ";" * 10 + _field(client_order_id, "order id") + ";;"


def oif_close_position(account: str, instrument: str) -> str:
    """`CLOSEPOSITION;<ACCOUNT>;<INSTRUMENT>;;;;;;;;;;` (NinjaTrader's ATI CLOSEPOSITION: closes the account's
    position in the instrument and cancels its working orders there, the protective ones too)."""
    return ";".join(["CLOSEPOSITION", _field(account, "account"), _field(instrument, "instrument")] + [""] * 10)


# ---- ATI information update files ------------------------------------------------------------

# NinjaTrader 8 OrderState names (and NinjaTrader 7's older spellings), upper-cased as the ATI
# writes them. None: an in-between state that changes nothing in the book (a pending cancel or
# change, or UNKNOWN). Fills are not statuses here: the filled amount moves the order.
ORDER_STATES: dict[str, OrderStatus | None] = {
    "INITIALIZED": S.SUBMITTED,
    "SUBMITTED": S.SUBMITTED,
    "PENDINGSUBMIT": S.SUBMITTED,
    "ACCEPTED": S.WORKING,
    "WORKING": S.WORKING,
    "TRIGGERPENDING": S.WORKING,
    "SUSPENDED": S.WORKING,
    "PARTFILLED": S.PARTIALLY_FILLED,
    "FILLED": S.FILLED,
    "CANCELLED": S.CANCELLED,
    "REJECTED": S.REJECTED,
    "CANCELPENDING": None,
    "CANCELSUBMITTED": None,
    "CHANGEPENDING": None,
    "CHANGESUBMITTED": None,
    "PENDINGCANCEL": None,
    "PENDINGCHANGE": None,
    "UNKNOWN": None,
}
POSITION_SIGNS = {"LONG": 1, "SHORT": -1, "FLAT": 0}
CONNECTION_STATES = frozenset({"CONNECTED", "DISCONNECTED"})


@dataclass(frozen=True, slots=True)
class OrderStateFile:
    """The content of `<ORDER ID>.txt`: NinjaTrader's state, the filled amount, the average price."""

    state: str
    status: OrderStatus | None
    filled: Decimal
    avg_price: Decimal | None


@dataclass(frozen=True, slots=True)
class PositionFile:
    """The content of a position file: signed quantity (long > 0) and average entry price."""

    instrument: str
    qty: Decimal
    avg_price: Decimal | None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines:
        raise ValueError("the file is empty")
    return lines[-1]


def _number(text: str, name: str) -> Decimal:
    raw = text.strip()
    if "," in raw and "." not in raw:  # a European Windows writes 5000,5
        raw = raw.replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{name} {text.strip()!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{name} {text.strip()!r} is not a usable number")
    return value


def _three_fields(line: str) -> list[str]:
    fields = line.split(";")
    if len(fields) == 4 and not fields[3].strip():  # tolerate a trailing ';'
        fields = fields[:3]
    if len(fields) != 3:
        raise ValueError(f"expected 3 fields separated by ';', got {line!r}")
    return fields


def parse_order_state(text: str) -> OrderStateFile:
    """Parse `STATE;FILLED;AVGPRICE` (e.g. `FILLED;1;5000.5`); ValueError says what is wrong."""
    state, filled_text, avg_text = _three_fields(_last_line(text))
    state = state.strip().upper()
    if state not in ORDER_STATES:
        raise ValueError(f"unknown order state {state!r}")
    filled = _number(filled_text, "filled amount")
    if filled != filled.to_integral_value():
        raise ValueError(f"filled amount {filled_text.strip()!r} is not a whole number")
    avg = _number(avg_text, "average fill price")
    if filled > 0 and avg == 0:
        raise ValueError(f"{filled} filled at an average price of 0")
    return OrderStateFile(state, ORDER_STATES[state], filled, avg if filled > 0 else None)


def position_instrument(filename: str, account: str) -> str | None:
    """The `<INSTRUMENT> <EXCHANGE>` part of `<...>_<ACCOUNT>_Position.txt`; None if not that account's."""
    suffix = f"_{account}_position.txt".lower()
    if not filename.lower().endswith(suffix) or len(filename) == len(suffix):
        return None
    return filename[: -len(suffix)]


def instrument_without_exchange(name: str) -> str:
    """`ES 12-26 Globex` -> `ES 12-26`: NinjaTrader appends the exchange after the last space."""
    head, _, _ = name.rpartition(" ")
    return head or name


def parse_position(instrument: str, text: str) -> PositionFile:
    """Parse `LONG;2;5000.25`, `SHORT;1;4999` or `FLAT;0;0` for `instrument`."""
    side, qty_text, avg_text = _three_fields(_last_line(text))
    side = side.strip().upper()
    if side not in POSITION_SIGNS:
        raise ValueError(f"market position {side!r} is not LONG, SHORT or FLAT")
    qty = _number(qty_text, "quantity")
    avg = _number(avg_text, "average entry price")
    sign = POSITION_SIGNS[side]
    if sign == 0:
        return PositionFile(instrument, Decimal(0), None)
    if qty == 0:
        raise ValueError(f"{side} position with a quantity of 0")
    return PositionFile(instrument, qty * sign, avg)


def parse_connection_state(text: str) -> str | None:
    """CONNECTED or DISCONNECTED when `text` is a connection state file, else None."""
    try:
        word = _last_line(text).upper()
    except ValueError:
        return None
    return word if word in CONNECTION_STATES else None


def fill_delta(prev_filled: Decimal, prev_avg: Decimal | None, filled: Decimal,
               avg: Decimal | None) -> tuple[Decimal, Decimal] | None:
    """The new execution between two cumulative (filled, average price) reports, or None.

    NinjaTrader reports an order's total filled amount and average price; the part
    filled since the last report is `filled - prev_filled` at the price that moves
    the average from `prev_avg` to `avg`.
    """
    qty = filled - prev_filled
    if qty <= 0 or avg is None:
        return None
    price = (avg * filled - (prev_avg or Decimal(0)) * prev_filled) / qty
    if price <= 0:
        raise ValueError(f"average price {avg} after {prev_avg} implies a fill at {price}")
    return qty, _plain(price)


def _plain(value: Decimal) -> Decimal:
    """`value` to at most 8 decimals, without trailing zeros or an exponent."""
    if value.as_tuple().exponent < -8:
        value = value.quantize(Decimal("0.00000001"))
    value = value.normalize()
    return value if value.as_tuple().exponent <= 0 else value.quantize(Decimal(1))
