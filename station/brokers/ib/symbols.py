"""Choosing IB contracts: the front month and its roll, today's expiry, strikes around the money.

Pure functions (no socket, no ib_async). How a TradingView-style symbol reads as a contract
is the domain's (`station/domain/contract_rules.py`); its names are kept here for the IB code.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, timedelta

from station.domain.contract_rules import INDEXES, UnknownSymbol, normalize, parse_symbol  # noqa: F401  (re-exported)

# ---- futures: the front month and its roll ------------------------------------------------------


def ib_date(text: str) -> date:
    """A date from IB's `YYYYMMDD` (the last trading day of a contract)."""
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def roll_date(last_trade: date, roll_days: int) -> date:
    """The day a position moves to the next contract: `roll_days` calendar days before the last trading day."""
    return last_trade - timedelta(days=roll_days)


def front_month(last_trade_dates: list[str], today: date, roll_days: int) -> str:
    """The contract to trade today: the nearest one whose roll date is still ahead.

    `last_trade_dates` are IB's `lastTradeDateOrContractMonth` values (YYYYMMDD).
    """
    candidates = sorted(d for d in last_trade_dates if len(d) >= 8)
    for value in candidates:
        if roll_date(ib_date(value), roll_days) > today:
            return value
    raise UnknownSymbol("no listed contract expires far enough ahead" if candidates else "IB listed no contracts")


# ---- options: today's expiry and strikes around the money ---------------------------------------


def zero_dte_expiry(expirations: list[str], today: date) -> str:
    """Today's expiry from a chain's expirations (YYYYMMDD), or UnknownSymbol naming the next one."""
    wanted = today.strftime("%Y%m%d")
    if wanted in expirations:
        return wanted
    later = sorted(e for e in expirations if e > wanted)
    raise UnknownSymbol(f"no expiry today ({wanted}); the next is {later[0] if later else 'not listed'}")


def pick_strike(strikes: list[float], price: float, right: str, offset: int = 0) -> float:
    """The at-the-money strike moved `offset` steps out of the money (calls up, puts down)."""
    ordered = sorted(set(strikes))
    if not ordered:
        raise UnknownSymbol("the option chain lists no strikes")
    index = bisect_left(ordered, price)
    if index == len(ordered) or (index > 0 and price - ordered[index - 1] <= ordered[index] - price):
        index -= 1
    index += offset if right == "C" else -offset
    if not 0 <= index < len(ordered):
        raise UnknownSymbol(f"no strike {offset} steps from the money at {price}")
    return ordered[index]
