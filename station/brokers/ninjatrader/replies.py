"""What a NinjaTrader port's receiver answers, pure: one JSON object and `\\n` per event (CONTRACT.md "NinjaTrader").

    {"type": "ack", "id": "…"}
    {"type": "order", "id": "…", "status": "working", "filled_qty": 0, "avg_price": null, "reason": null}
    {"type": "position", "account": "Sim101", "instrument": "ES 12-26", "qty": 1, "avg_price": 5000.25}

`filled_qty` and `avg_price` are cumulative; the exits the add-on places for a bracket answer
under the entry's id with a suffix (`<id>-sl`, `<id>-tp`, `<id>-trail`; a later group after the
first ended `<id>-sl-2`). A refused line may come back with `"id": null`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal

from station.domain.enums import OrderStatus

# the REST order statuses a receiver answers with (`new` and `held` say nothing a port's line needs)
REPLY_STATUSES: dict[str, OrderStatus | None] = {
    "new": None,
    "held": None,
    "submitted": OrderStatus.SUBMITTED,
    "working": OrderStatus.WORKING,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
}
EXIT_ID = re.compile(r"^(?P<entry>.+)-(?P<role>sl|tp|trail)(?:-(?P<group>[0-9]+))?$")
EXIT_ROLES = {"sl": "stop_loss", "tp": "take_profit", "trail": "trailing_stop"}


class BadReply(ValueError):
    """A line from the receiver that is not one of the contract's replies (the message says why)."""


@dataclass(frozen=True, slots=True)
class AckReply:
    """The receiver recorded the line with this id (it read it, and every line before it)."""

    id: str


@dataclass(frozen=True, slots=True)
class OrderReply:
    """Where an order stands at the receiver: its status and its cumulative fill."""

    id: str | None
    status: OrderStatus | None  # None: a status that changes nothing (`new`)
    filled_qty: Decimal
    avg_price: Decimal | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class PositionReply:
    """An account's position in one NinjaTrader instrument, signed (short < 0); no price when flat."""

    account: str
    instrument: str
    qty: Decimal
    avg_price: Decimal | None


Reply = AckReply | OrderReply | PositionReply


def _number(value, name: str, *, optional: bool = False) -> Decimal | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise BadReply(f"{name} {value!r} is not a number")
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise BadReply(f"{name} {value!r} is not a finite number")
    return number


def _text(value, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise BadReply(f"{name} {value!r} is not a non-empty string")
    return value


def parse_reply(raw: bytes | str) -> Reply:
    """One reply line as sent (with or without its `\\n`); BadReply says what is wrong with it."""
    try:
        document = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadReply(f"not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise BadReply("not a JSON object")
    kind = document.get("type")
    if kind == "ack":
        return AckReply(_text(document.get("id"), "id"))
    if kind == "order":
        status_text = document.get("status")
        if status_text not in REPLY_STATUSES:
            raise BadReply(f"status {status_text!r} is not an order status")
        filled = _number(document.get("filled_qty", 0), "filled_qty")
        avg = _number(document.get("avg_price"), "avg_price", optional=True)
        if filled < 0 or (avg is not None and avg <= 0):
            raise BadReply(f"filled_qty {filled} at avg_price {avg} is not a fill")
        reason = document.get("reason")
        return OrderReply(_text(document.get("id"), "id", optional=True), REPLY_STATUSES[status_text], filled, avg,
                          reason if isinstance(reason, str) else None)
    if kind == "position":
        qty = _number(document.get("qty"), "qty")
        avg = _number(document.get("avg_price"), "avg_price", optional=True)
        return PositionReply(_text(document.get("account"), "account"), _text(document.get("instrument"), "instrument"),
                             qty, avg if qty != 0 else None)
    raise BadReply(f"type {kind!r} is not ack, order or position")


def exit_of(order_id: str) -> tuple[str, str] | None:
    """`(entry id, role)` for the id of an exit the receiver placed for a bracket (`a17-…-sl-2`), else None."""
    match = EXIT_ID.match(order_id)
    if match is None:
        return None
    return match.group("entry"), EXIT_ROLES[match.group("role")]
