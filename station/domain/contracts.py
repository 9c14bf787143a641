"""Point values: what one point of an instrument's price is worth in money, one table for all of Station.

A ticker's `point_value` setting wins (at any time: the current setting values every trade, also one
made before it was set); else the futures table below by the ticker itself or its contract's root
(`ES`, `ESM5`, `CME_MINI:ES1!`, `MES 12-26`); else 1 (stocks, ETFs). A bare root such as `ES` is the
future: a trader with a stock of that name sets its `point_value` to 1. The table is keyed like the
tick-size table (`analysis/ticks.py`, moving to `domain/ticks.py`), by CME Group and ICE US roots.
"""

from __future__ import annotations

from decimal import Decimal

from station.domain.ticks import future_root

# Contract multipliers (money per 1.0 of price) of the futures TradingView strategies trade most.
FUTURES_POINT_VALUES: dict[str, Decimal] = {root: Decimal(text) for root, text in {
    "ES": "50", "MES": "5", "NQ": "20", "MNQ": "2", "RTY": "50", "M2K": "5", "YM": "5", "MYM": "0.5",
    "EMD": "100", "NKD": "5", "CL": "1000", "MCL": "100", "QM": "500", "NG": "10000", "QG": "2500",
    "RB": "42000", "HO": "42000", "GC": "100", "MGC": "10", "SI": "5000", "SIL": "1000", "HG": "25000",
    "MHG": "2500", "PL": "50", "PA": "100", "ZB": "1000", "UB": "1000", "ZN": "1000", "TN": "1000", "ZF": "1000",
    "ZT": "2000", "6E": "125000", "M6E": "12500", "6J": "12500000", "6B": "62500", "6A": "100000",
    "6C": "100000", "6S": "125000", "ZC": "50", "ZS": "50", "ZW": "50", "ZL": "600", "ZM": "100", "LE": "400",
    "HE": "400", "GF": "500", "BTC": "5", "MBT": "0.1", "ETH": "50", "MET": "0.1", "VX": "1000", "BRN": "1000",
}.items()}
STOCK_POINT_VALUE = Decimal(1)

def contract_root(symbol: str | None) -> str | None:
    """The root of a symbol written as a futures contract (`ES` for `CME_MINI:ES1!`, `ESM5`, `ES.c.0`), else None."""
    return future_root(symbol)


def is_future(ticker: str | None, instrument: str | None = None) -> bool:
    """True when the table knows `ticker` (or its contract's root, or the instrument's) as a future."""
    return table_point_value(ticker, instrument) is not None


def table_point_value(ticker: str | None, instrument: str | None = None) -> Decimal | None:
    """The futures table's point value of `ticker` or its root (or `instrument`'s), else None."""
    key = (ticker or "").strip().upper().split(":")[-1]
    for name in (key, contract_root(key), contract_root(instrument)):
        if name and name in FUTURES_POINT_VALUES:
            return FUTURES_POINT_VALUES[name]
    return None


def point_value(ticker: str | None, instrument: str | None = None,
                configured: Decimal | str | float | int | None = None) -> Decimal:
    """Money per point of `ticker`: its `point_value` setting, else the futures table, else 1."""
    if configured not in (None, "", 0):
        value = Decimal(str(configured))
        if value > 0:
            return value
    return table_point_value(ticker, instrument) or STOCK_POINT_VALUE
