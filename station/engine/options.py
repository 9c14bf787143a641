"""Same-day (0DTE) index options: at-the-money strike, today's expiry in New York, OSI symbols."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from station.domain.enums import OptionRight
from station.domain.timeutil import to_eastern


def atm_strike(price: float, step: Decimal | float | str = 5) -> Decimal:
    """The listed strike nearest to `price` (halves round up), on a grid of `step`."""
    step = Decimal(str(step))
    if step <= 0:
        raise ValueError("strike step must be positive")
    if not price > 0:
        raise ValueError(f"no strike for a price of {price}")
    units = (Decimal(repr(price)) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (units * step).normalize() if units else step


def expiry_today(now: datetime) -> date:
    """Today in New York (where SPXW expire), whatever the UTC date is."""
    return to_eastern(now).date()


def osi_symbol(root: str, expiry: date, right: OptionRight, strike: Decimal) -> str:
    """The 21-character OCC/OSI option symbol, e.g. `SPXW  240104C04750000`."""
    thousandths = int((strike * 1000).to_integral_value())
    return f"{root.upper():<6}{expiry:%y%m%d}{'C' if right is OptionRight.CALL else 'P'}{thousandths:08d}"


def option_contract(root: str, underlying: str, expiry: date, strike: Decimal, right: OptionRight,
                    multiplier: int = 100) -> dict[str, Any]:
    """The contract as plain JSON (carried in a signal's alert `extra["instrument"]`)."""
    return {
        "symbol": root.upper(), "asset_class": "option", "underlying": underlying, "expiry": expiry.isoformat(),
        "strike": str(strike), "right": str(right), "multiplier": multiplier,
        "osi": osi_symbol(root, expiry, right, strike),
    }
