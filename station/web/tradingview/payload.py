"""Webhook bodies → alerts: JSON decoding with limits, the three TradingView dialects, spreads.

Pure functions, no I/O. Every problem is reported as `PayloadError` whose
`errors` map the field name *as sent* to why it was refused (`body` when the
body as a whole is wrong), so the sender sees exactly what to fix.

Dialects (CONTRACT.md "TradingView webhook"), told apart by their field names:
1. ticker, trade_id, action, current_position, qty, price, time
2. ticker, order_action, order_contracts, order_price, mar_pos, mar_pos_size,
   pre_mar_pos, pre_mar_pos_size, order_comment, order_status
3. symbol, action, quantity, price, timestamp
Numbers may arrive as strings; actions and positions are case-insensitive. In every dialect an
alert may also carry order instructions (`station.domain.instructions`): the action `exit` (or
`close`), `reverse` or `cancel`, an order type with its prices and tif, and a bracket's
`stop_loss`, `take_profit` or `trailing_stop`; each refusal names the field as sent.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from station.domain.alert import Alert, SpreadTicker
from station.domain.enums import AlertAction, Side
from station.domain.instructions import FIELDS as INSTRUCTION_FIELDS, read_instructions
from station.domain.numbers import decimal_or_none
from station.domain.timeutil import UTC, parse_utc, to_eastern

MAX_QTY = Decimal("1e9")
MIN_QTY = Decimal("1e-8")
MAX_PRICE = Decimal("1e9")
MIN_PRICE = Decimal("1e-8")
MAX_TEXT = 200
POSITIONS = ("long", "short", "flat")

# canonical field -> the names it may arrive under, in order of preference
ALIASES: dict[str, tuple[str, ...]] = {
    "ticker": ("ticker", "symbol"),
    "action": ("action", "order_action"),
    "qty": ("qty", "quantity", "order_contracts"),
    "price": ("price", "order_price"),
    "sent_at": ("time", "timestamp", "timenow"),
    "position": ("current_position", "pre_mar_pos"),
    "target_position": ("mar_pos",),
    "trade_id": ("trade_id", "order_comment"),
}
# trade_id and order_comment are both the sender's label for the trade: the first one wins quietly
QUIET_ALIASES = frozenset({"trade_id"})
_CANONICAL = {name: (canonical, rank) for canonical, names in ALIASES.items() for rank, name in enumerate(names)}
_NOTHING = (None, None)
DIALECT_2 = frozenset({"order_action", "order_contracts", "order_price", "mar_pos", "mar_pos_size",
                       "pre_mar_pos", "pre_mar_pos_size", "order_comment", "order_status"})
DIALECT_3 = frozenset({"symbol", "quantity", "timestamp"})
SIZES = ("mar_pos_size", "pre_mar_pos_size")

_SPREAD = re.compile(r"^(?P<t1>.+?)-(?P<hedge>\d+(?:\.\d*)?|\.\d+)\*(?P<t2>.+)$")


class PayloadError(ValueError):
    """A body was refused; `errors` maps each field name as sent to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True, slots=True)
class Decoded:
    """A body decoded to a JSON object, with the passphrase taken out."""

    fields: dict[str, Any]
    passphrase: Any
    has_passphrase: bool


# ---- bytes -> object -------------------------------------------------------------------------


def _parse_int(text: str) -> int | float:
    # Python refuses to convert ints of more than 4300 digits; such a number is absurd anyway.
    return int(text) if len(text) < 300 else float(text)


_DECODER = json.JSONDecoder(parse_int=_parse_int)
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def decode_body(body: bytes) -> Decoded:
    """The body as a JSON object (UTF-8, any content type); PayloadError keyed `body` if not."""
    if not body.strip():
        raise PayloadError({"body": "is empty; send one JSON object"})
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError({"body": f"is not valid UTF-8 (byte {exc.start})"}) from None
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise PayloadError({"body": f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"}) from None
    except RecursionError:
        raise PayloadError({"body": "is nested too deeply"}) from None
    except ValueError as exc:
        raise PayloadError({"body": f"is not valid JSON: {exc}"}) from None
    if not isinstance(value, dict):
        raise PayloadError({"body": f"must be a JSON object, not {_kind(value)}"})
    has = "passphrase" in value
    passphrase = value.pop("passphrase", None)
    return Decoded(value, passphrase, has)


def canonical_text(fields: dict[str, Any]) -> str:
    """The body without its passphrase as compact JSON with sorted keys (journaled; fingerprinted).

    Refuses what cannot be stored faithfully: non-finite numbers, lone surrogates, absurd nesting.
    """
    try:
        text = _ENCODER.encode(fields)
        text.encode("utf-8")
        return text
    except (ValueError, RecursionError, TypeError):  # UnicodeEncodeError is a ValueError
        pass
    errors = {}
    for key, value in fields.items():
        try:
            json.dumps({key: value}, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (ValueError, RecursionError, TypeError):
            errors[_printable(key)] = "holds a value that cannot be stored (NaN, Infinity, invalid unicode or deep nesting)"
    raise PayloadError(errors or {"body": "cannot be stored"})


# ---- object -> alert -------------------------------------------------------------------------


def dialect_of(fields: dict[str, Any]) -> int:
    """1, 2 or 3: which of the contract's dialects these field names belong to."""
    if not DIALECT_2.isdisjoint(fields):
        return 2
    if not DIALECT_3.isdisjoint(fields):
        return 3
    return 1


def parse_alert(fields: dict[str, Any], *, received_at: datetime, strategy: str | None = None,
                source: str = "webhook") -> Alert:
    """An Alert from a decoded body; `strategy` (from the path) wins over none in the body."""
    errors: dict[str, str] = {}
    got = _pick_all(fields, errors)
    dialect = dialect_of(fields)

    ticker = spread = None
    exchanges: dict[str, str] = {}
    name, value = got.get("ticker", _NOTHING)
    if name is None:
        errors["symbol" if dialect == 3 else "ticker"] = "is required (ticker or symbol)"
    else:
        ticker = _text(value, name, errors)
        if ticker is not None:
            spread = _spread(ticker, exchanges)

    action = None
    name, value = got.get("action", _NOTHING)
    if name is None:
        errors["order_action" if dialect == 2 else "action"] = f"is required ({ACTION_WORDS})"
    else:
        action = _action(value)
        if action is None:
            errors[name] = f"must be {ACTION_WORDS}"
    action_name = name

    qty = _number(*got.get("qty", _NOTHING), errors, minimum=MIN_QTY, maximum=MAX_QTY)
    # a spread's price (leg1 - hedge x leg2) may be zero or negative; any other price is above zero
    price = _number(*got.get("price", _NOTHING), errors, minimum=None if spread else MIN_PRICE, maximum=MAX_PRICE)
    sent_at = _time(*got.get("sent_at", _NOTHING), errors)
    position = _position(*got.get("position", _NOTHING), errors)
    target = _position(*got.get("target_position", _NOTHING), errors)
    name, value = got.get("trade_id", _NOTHING)
    trade_id = None if name is None else _text(value, name, errors, allow_number=True)

    body_strategy = None
    if "strategy" in fields:
        body_strategy = _text(fields["strategy"], "strategy", errors)
        if strategy is not None and body_strategy is not None and body_strategy.lower() != strategy.lower():
            errors["strategy"] = f"is {body_strategy!r} but the URL names strategy {strategy!r}"

    instructions = read_instructions(fields, errors, action=action, price=price)
    if spread is not None:
        for key in INSTRUCTION_FIELDS:
            if key in fields and fields[key] not in (None, ""):
                errors.setdefault(key, "is not taken by a pair (spread) alert; its legs are market orders")
        if isinstance(action, AlertAction):
            errors.setdefault(action_name, "a pair (spread) alert is buy or sell")

    extra: dict[str, Any] = dict(exchanges)
    for size in SIZES:
        if size in fields:
            amount = _number(size, fields[size], errors, minimum=Decimal(0), maximum=MAX_QTY)
            if amount is not None:
                extra[size] = amount
    if "order_status" in fields:
        status = _text(fields["order_status"], "order_status", errors)
        if status is not None:
            extra["order_status"] = status
    if errors:
        raise PayloadError(errors)
    return Alert(
        ticker=ticker, action=action, received_at=received_at, qty=qty, price=price,
        strategy=strategy or body_strategy, sent_at=sent_at, trade_id=trade_id, position=position,
        target_position=target, spread=spread, source=source, dialect=dialect, extra=extra,
        instructions=instructions,
    )


ACTION_WORDS = "buy, sell, exit, close, reverse or cancel"


def _action(value: Any) -> Side | AlertAction | None:
    """buy/sell as a Side, exit (close)/reverse/cancel as an AlertAction; None for anything else."""
    if not isinstance(value, str):
        return None
    word = value.strip().lower()
    if word in ("buy", "sell"):
        return Side(word)
    try:
        return AlertAction.parse(word)
    except ValueError:
        return None


def parse_spread(ticker: str) -> SpreadTicker | None:
    """`NMFC-0.72*NASDAQ:ROIC` → SpreadTicker("NMFC", 0.72, "ROIC"); None for a plain ticker."""
    return _spread(ticker, {})


def _spread(ticker: str, exchanges: dict[str, str]) -> SpreadTicker | None:
    match = _SPREAD.match(ticker)
    if match is None:
        return None
    legs = []
    for index, leg in ((1, match["t1"]), (2, match["t2"])):
        exchange, _, symbol = leg.strip().rpartition(":")
        if not symbol or "*" in symbol:
            return None
        if exchange:
            exchanges[f"exchange{index}"] = exchange
        legs.append(symbol)
    hedge = Decimal(match["hedge"])
    if hedge <= 0 or not legs[0] or not legs[1]:
        return None
    return SpreadTicker(legs[0], hedge, legs[1])


def _pick_all(fields: dict[str, Any], errors: dict[str, str]) -> dict[str, tuple[str, Any]]:
    """canonical field -> (name as sent, value), one pass over the body; differing aliases are an error."""
    got: dict[str, tuple[str, Any, int]] = {}
    for name, value in fields.items():
        known = _CANONICAL.get(name)
        if known is None:
            continue
        canonical, rank = known
        seen = got.get(canonical)
        if seen is None or rank < seen[2]:
            got[canonical] = (name, value, rank)
        if seen is not None and seen[1] != value and canonical not in QUIET_ALIASES:
            later = name if rank > seen[2] else seen[0]
            errors[later] = f"differs from {seen[0] if later == name else name}; send one of them"
    return {canonical: (name, value) for canonical, (name, value, _) in got.items()}


def _text(value: Any, name: str, errors: dict[str, str], *, allow_number: bool = False) -> str | None:
    if allow_number and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        errors[name] = f"must be a string, not {_kind(value)}"
        return None
    value = value.strip()
    if not value:
        errors[name] = "is empty"
    elif len(value) > MAX_TEXT:
        errors[name] = f"is longer than {MAX_TEXT} characters"
    elif not value.isprintable():
        errors[name] = "contains control characters"
    else:
        return value
    return None


def _number(name: str | None, value: Any, errors: dict[str, str], *, minimum: Decimal | None,
            maximum: Decimal) -> Decimal | None:
    if name is None or value is None or value == "":
        return None
    if type(value) is int and 0 < value <= maximum and (minimum is None or value >= minimum):
        return Decimal(value)  # the common case, e.g. "qty": 10
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        errors[name] = f"must be a number, not {_kind(value)}"
        return None
    if isinstance(value, float) and not math.isfinite(value):
        errors[name] = "must be a finite number"
        return None
    text = repr(value) if isinstance(value, float) else str(value).strip()
    number = decimal_or_none(text)
    if number is None:
        errors[name] = ("must be a finite number" if text.lower().lstrip("+-") in ("inf", "infinity", "nan")
                        else f"{_printable(text)[:40]!r} is not a number (digits 0-9, an optional . and exponent)")
        return None
    if not number.is_finite():
        errors[name] = "must be a finite number"
    elif abs(number) > maximum:
        errors[name] = f"must be at most {maximum:,f}" if minimum is not None else f"must be within ±{maximum:,f}"
    elif minimum is not None and minimum > 0 and number <= 0:
        errors[name] = "must be greater than 0"
    elif minimum is not None and number < minimum:
        errors[name] = f"must be at least {minimum:f}"
    else:
        return number.quantize(1) if number == number.to_integral_value() else number.normalize()
    return None


def _time(name: str | None, value: Any, errors: dict[str, str]) -> datetime | None:
    if name is None or value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
            seconds = float(value)
            if seconds > 1e11:  # epoch milliseconds (TradingView's {{timenow}} in some templates)
                seconds /= 1000
            when = datetime.fromtimestamp(seconds, UTC)
        elif isinstance(value, str) and len(value) <= 64:
            when = parse_utc(value)
        else:
            raise ValueError
        # the NinjaTrader line says it in US/Eastern: a time with no Eastern date (year 1) is absurd, refused here
        to_eastern(when)
        return when
    except (ValueError, OverflowError, OSError):
        pass
    errors[name] = "must be a time like 2024-01-04T15:30:00Z (UTC) or epoch seconds"
    return None


def _position(name: str | None, value: Any, errors: dict[str, str]) -> str | None:
    if name is None or value is None or value == "":
        return None
    if not isinstance(value, str) or value.strip().lower() not in POSITIONS:
        errors[name] = "must be long, short or flat"
        return None
    return value.strip().lower()


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
