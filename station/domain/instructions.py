"""An alert's (or a hand-placed order's) order instructions, and the contract's rules for reading them.

CONTRACT.md "Order instructions in an alert": `order_type`, `limit_price`, `stop_price`, `tif`,
`stop_loss`, `take_profit` (a price or an offset from the entry's fill) and `trailing_stop` (an
offset). Numbers arrive as numbers or strings (TradingView placeholders such as `{{close}}` are
strings). `read_instructions` applies every refusal of the contract and names the field as sent;
it is pure and shared by the webhook and the REST API.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from station.domain.enums import AlertAction, OrderType, Side, TimeInForce
from station.domain.numbers import decimal_or_none

FIELDS = ("order_type", "limit_price", "stop_price", "tif", "stop_loss", "take_profit", "trailing_stop")
UNITS = ("ticks", "points", "percent")
MAX_NUMBER = Decimal("1e9")
MIN_NUMBER = Decimal("1e-8")  # as for an alert's price: below it a number is absurd (CONTRACT.md: a 400)
HUNDRED = Decimal(100)
# the prices each order type takes
PRICES = {OrderType.MARKET: (), OrderType.LIMIT: ("limit_price",), OrderType.STOP: ("stop_price",),
          OrderType.STOP_LIMIT: ("limit_price", "stop_price")}
ENTRY_TYPES = tuple(PRICES)


def _json(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True, slots=True)
class Offset:
    """A distance from a price: `ticks` (of the instrument's tick size), `points`, or `percent` of the price."""

    unit: str
    value: Decimal

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"an offset is in ticks, points or percent, not {self.unit!r}")
        if not self.value.is_finite() or self.value <= 0:
            raise ValueError(f"an offset must be greater than 0, got {self.value}")

    def distance(self, price: Decimal, tick: Decimal | None) -> Decimal:
        """How far from `price` this offset is, in price units (ticks need the instrument's `tick`)."""
        if self.unit == "points":
            return self.value
        if self.unit == "percent":
            return price * self.value / HUNDRED
        if tick is None:
            raise ValueError("an offset in ticks needs the instrument's tick size")
        return self.value * tick

    def to_json(self) -> dict[str, int | float]:
        return {self.unit: _json(self.value)}

    @classmethod
    def from_json(cls, value: dict) -> "Offset":
        [(unit, number)] = value.items()
        return cls(unit, Decimal(str(number)))

    def __str__(self) -> str:
        return f"{_json(self.value)} {self.unit}"


@dataclass(frozen=True, slots=True)
class ExitLevel:
    """A `stop_loss` or `take_profit`: an absolute price, or an offset from the entry's fill price."""

    price: Decimal | None = None
    offset: Offset | None = None

    def __post_init__(self) -> None:
        if (self.price is None) == (self.offset is None):
            raise ValueError("an exit level is a price or an offset, exactly one")

    def to_json(self) -> int | float | dict:
        return _json(self.price) if self.price is not None else self.offset.to_json()

    @classmethod
    def from_json(cls, value: Any) -> "ExitLevel":
        if isinstance(value, dict):
            return cls(offset=Offset.from_json(value))
        return cls(price=Decimal(str(value)))


@dataclass(frozen=True, slots=True)
class OrderInstructions:
    """What the sender asked for besides side and size; a field left None was not given (defaults apply)."""

    order_type: OrderType | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: TimeInForce | None = None
    stop_loss: ExitLevel | None = None
    take_profit: ExitLevel | None = None
    trailing_stop: Offset | None = None

    @property
    def kind(self) -> OrderType:
        """The entry's order type (market unless given)."""
        return self.order_type or OrderType.MARKET

    @property
    def time_in_force(self) -> TimeInForce:
        return self.tif or TimeInForce.DAY

    @property
    def is_bracket(self) -> bool:
        """The entry carries protective exits."""
        return any(x is not None for x in (self.stop_loss, self.take_profit, self.trailing_stop))

    def line_fields(self) -> dict[str, Any]:
        """All seven fields as JSON values, None for those not given (the NinjaTrader port line)."""
        return {
            "order_type": None if self.order_type is None else self.order_type.value,
            "limit_price": None if self.limit_price is None else _json(self.limit_price),
            "stop_price": None if self.stop_price is None else _json(self.stop_price),
            "tif": None if self.tif is None else self.tif.value,
            "stop_loss": None if self.stop_loss is None else self.stop_loss.to_json(),
            "take_profit": None if self.take_profit is None else self.take_profit.to_json(),
            "trailing_stop": None if self.trailing_stop is None else self.trailing_stop.to_json(),
        }

    def to_json(self) -> dict[str, Any]:
        """The fields given, as JSON values (journaled with the alert)."""
        return {key: value for key, value in self.line_fields().items() if value is not None}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> "OrderInstructions":
        def dec(key):
            return None if value.get(key) is None else Decimal(str(value[key]))

        return cls(
            order_type=OrderType(value["order_type"]) if value.get("order_type") else None,
            limit_price=dec("limit_price"), stop_price=dec("stop_price"),
            tif=TimeInForce(value["tif"]) if value.get("tif") else None,
            stop_loss=ExitLevel.from_json(value["stop_loss"]) if value.get("stop_loss") is not None else None,
            take_profit=ExitLevel.from_json(value["take_profit"]) if value.get("take_profit") is not None else None,
            trailing_stop=Offset.from_json(value["trailing_stop"]) if value.get("trailing_stop") else None,
        )


# ---- reading what a sender wrote -------------------------------------------------------------------


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def positive_number(value: Any) -> Decimal:
    """A number (or a number written as a string) above zero; ValueError says why not."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        kind = {dict: "an object", list: "a list", bool: "a boolean"}.get(type(value), type(value).__name__)
        raise ValueError(f"must be a number, not {kind}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    text = repr(value) if isinstance(value, float) else str(value).strip()
    number = decimal_or_none(text)
    if number is None:
        raise ValueError(f"{text[:40]!r} is not a number")
    if number <= 0:
        raise ValueError("must be greater than 0")
    if number > MAX_NUMBER:
        raise ValueError(f"must be at most {MAX_NUMBER:,f}")
    if number < MIN_NUMBER:
        raise ValueError(f"must be at least {MIN_NUMBER:f}")
    return number.normalize() if number != number.to_integral_value() else number.quantize(1)


def read_offset(value: Any) -> Offset:
    """`{"ticks": N}`, `{"points": X}` or `{"percent": P}`; ValueError says what is wrong."""
    if not isinstance(value, dict):
        raise ValueError('must be an offset: {"ticks": N}, {"points": X} or {"percent": P}')
    unknown = [key for key in value if key not in UNITS]
    if unknown:
        raise ValueError(f"unknown key {str(unknown[0])[:40]!r} in the offset (ticks, points or percent)")
    if not value:
        raise ValueError("the offset needs one of ticks, points or percent")
    if len(value) > 1:
        raise ValueError("give one of ticks, points or percent, not several")
    [(unit, raw)] = value.items()
    try:
        number = positive_number(raw)
    except ValueError as exc:
        raise ValueError(f"{unit} {exc}") from None
    if unit == "ticks" and number != number.to_integral_value():
        raise ValueError("ticks must be a whole number")
    if unit == "percent" and number >= HUNDRED:
        raise ValueError("percent must be below 100")
    return Offset(unit, number)


def read_exit_level(value: Any) -> ExitLevel:
    if isinstance(value, dict):
        return ExitLevel(offset=read_offset(value))
    try:
        return ExitLevel(price=positive_number(value))
    except ValueError as exc:
        raise ValueError(f'{exc}: a price, or an offset {{"ticks": N}}, {{"points": X}} or {{"percent": P}}') from None


def read_instructions(fields: dict[str, Any], errors: dict[str, str], *, action: Side | AlertAction | None,
                      price: Decimal | None = None) -> OrderInstructions | None:
    """The order instructions in `fields` (None when none is given); every problem goes into `errors`
    under the field's name. `price` is the alert's price: absolute exits must be on the right side of it
    (or of a limit or stop entry's own price)."""
    given = {key: fields[key] for key in FIELDS if key in fields and _given(fields[key])}
    if not given:
        return None
    if action in (AlertAction.EXIT, AlertAction.CANCEL):
        for key in given:
            errors[key] = f"is not taken by action {action.value} (it carries no order instructions)"
        return None
    values: dict[str, Any] = {}
    for key, reader in (("order_type", _order_type), ("tif", _tif), ("limit_price", positive_number),
                        ("stop_price", positive_number), ("stop_loss", read_exit_level),
                        ("take_profit", read_exit_level), ("trailing_stop", read_offset)):
        if key in given:
            try:
                values[key] = reader(given[key])
            except ValueError as exc:
                errors[key] = str(exc)
    kind = values.get("order_type", OrderType.MARKET)
    if "order_type" in given and "order_type" not in values:
        kind = None  # unreadable: its prices cannot be judged
    if kind is not None:
        for key in ("limit_price", "stop_price"):
            if key in given and key not in PRICES[kind]:
                errors.setdefault(key, f"is not taken by order_type {kind.value}"
                                  + (" (send order_type limit, stop or stop_limit)" if kind is OrderType.MARKET else ""))
            elif key not in given and key in PRICES[kind]:
                errors[key] = f"is required by order_type {kind.value}"
    if "trailing_stop" in given and "stop_loss" in given:
        errors["trailing_stop"] = "is not taken together with stop_loss (send one of them)"
    side = action if isinstance(action, Side) else None
    if kind is not None and side is not None:
        _check_sides(values, kind, side, price, errors)
    if errors:
        return None
    return OrderInstructions(**values)


def _check_sides(values: dict[str, Any], kind: OrderType, side: Side, price: Decimal | None,
                 errors: dict[str, str]) -> None:
    """An absolute stop_loss below (a buy's) and take_profit above the entry's price, mirrored for a sell."""
    if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) and "limit_price" in values:
        reference, what = values["limit_price"], "limit_price"
    elif kind is OrderType.STOP and "stop_price" in values:
        reference, what = values["stop_price"], "stop_price"
    else:
        reference, what = price, "the alert's price"
    if reference is None:
        return
    for key, losing in (("stop_loss", True), ("take_profit", False)):
        level = values.get(key)
        if level is None or level.price is None:
            continue
        below = (side is Side.BUY) == losing
        if below and level.price >= reference:
            errors[key] = f"{_json(level.price)} must be below {what} {_json(reference)} for a {side.value}"
        elif not below and level.price <= reference:
            errors[key] = f"{_json(level.price)} must be above {what} {_json(reference)} for a {side.value}"


def _order_type(value: Any) -> OrderType:
    word = value.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(value, str) else None
    if word == "stoplimit":
        word = "stop_limit"
    try:
        found = OrderType(word)
    except ValueError:
        found = None
    if found not in ENTRY_TYPES:
        raise ValueError("must be market, limit, stop or stop_limit")
    return found


def _tif(value: Any) -> TimeInForce:
    if not isinstance(value, str) or value.strip().lower() not in ("day", "gtc"):
        raise ValueError("must be day or gtc")
    return TimeInForce(value.strip().lower())
