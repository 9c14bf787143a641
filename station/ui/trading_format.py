"""How trading figures look in the docks: times in US/Eastern, quantities, prices, PnL colours."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from station.domain.enums import OrderStatus, Side
from station.domain.timeutil import to_eastern
from station.ui import theme

STATUS_COLORS = {
    OrderStatus.NEW: theme.AMBER, OrderStatus.SUBMITTED: theme.ACCENT, OrderStatus.WORKING: theme.ACCENT,
    OrderStatus.PARTIALLY_FILLED: theme.AMBER, OrderStatus.FILLED: theme.GREEN,
    OrderStatus.CANCELLED: theme.GREY, OrderStatus.REJECTED: theme.RED,
}


def et_time(value: datetime | None) -> str:
    return "" if value is None else to_eastern(value).strftime("%H:%M:%S")


def et_datetime(value: datetime | None) -> str:
    return "" if value is None else to_eastern(value).strftime("%m-%d %H:%M:%S")


def qty(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}".rstrip("0")


def price(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value:,.4f}".rstrip("0")
    return text + "00" if text.endswith(".") else text + ("0" if len(text.split(".")[-1]) == 1 else "")


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:+,.2f}"


def pnl_color(value: Decimal | None) -> str | None:
    if not value:
        return theme.MUTED if value == 0 else None
    return theme.GREEN if value > 0 else theme.RED


def side_color(side: Side | str) -> str:
    """Buy green, sell red (a side or its name, any case)."""
    return theme.GREEN if str(side).lower() == "buy" else theme.RED


def ticker_root(symbol: str) -> str:
    """A symbol as a chart, an alert and a strategy may each write it: `CME_MINI:ES1!` and `ES` are both `ES`."""
    name = symbol.split(":")[-1].strip().upper()
    if name.endswith("!"):
        name = name[:-1].rstrip("0123456789")
    return name
