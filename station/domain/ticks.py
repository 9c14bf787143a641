"""Tick sizes: the smallest price step of an instrument, for offsets in ticks and for rounding prices.

A ticker's `tick_size` setting (in its strategy's routing entry) wins; else the futures table
below by the ticker or its contract's root (`ES`, `CME_MINI:ES1!`, `MES 12-26`); else a cent.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

# Minimum price increments of the futures TradingView strategies trade most (CME Group, ICE US).
FUTURES_TICKS: dict[str, Decimal] = {root: Decimal(text) for root, text in {
    "ES": "0.25", "MES": "0.25", "NQ": "0.25", "MNQ": "0.25", "RTY": "0.1", "M2K": "0.1", "YM": "1", "MYM": "1",
    "EMD": "0.1", "NKD": "5", "CL": "0.01", "MCL": "0.01", "QM": "0.025", "NG": "0.001", "QG": "0.005",
    "RB": "0.0001", "HO": "0.0001", "GC": "0.1", "MGC": "0.1", "SI": "0.005", "SIL": "0.005", "HG": "0.0005",
    "MHG": "0.0005", "PL": "0.1", "PA": "0.5", "ZB": "0.03125", "UB": "0.03125", "ZN": "0.015625",
    "TN": "0.015625", "ZF": "0.0078125", "ZT": "0.00390625", "6E": "0.00005", "M6E": "0.0001", "6J": "0.0000005",
    "6B": "0.0001", "6A": "0.00005", "6C": "0.00005", "6S": "0.00005", "ZC": "0.25", "ZS": "0.25", "ZW": "0.25",
    "ZL": "0.01", "ZM": "0.1", "LE": "0.025", "HE": "0.025", "GF": "0.025", "BTC": "5", "MBT": "5", "ETH": "0.5",
    "MET": "0.5", "VX": "0.05", "BRN": "0.01",
}.items()}
STOCK_TICK = Decimal("0.01")

# A futures contract as a destination writes it: `ESZ6`, `ESZ2026`, `MES 12-26`.
_CONTRACT = re.compile(r"^([A-Z0-9]{1,4}?)[FGHJKMNQUVXZ]\d{1,4}$")
# TradingView's continuous future: a root of letters and digits (ES, MES, 6E, M2K), the month number, "!".
_CONTINUOUS = re.compile(r"^([A-Za-z0-9]+?)\d{1,2}!$")


def continuous_root(symbol: str) -> str | None:
    """The root of a TradingView continuous future without its exchange (`ES` for `ES1!`, `6E2!`), else None."""
    match = _CONTINUOUS.match(symbol)
    return match.group(1) if match else None


def future_root(symbol: str | None) -> str | None:
    """The root of a symbol written as a futures contract (`ES` for `CME_MINI:ES1!`, `ESM5`, `MES 12-26`,
    Databento's `ES.c.0` and `ES.FUT`), else None."""
    text = (symbol or "").strip().upper().split(":")[-1]
    if not text:
        return None
    if " " in text:
        return text.split()[0]
    if "." in text:
        return text.split(".")[0] or None
    match = _CONTRACT.match(text)
    return match.group(1) if match else continuous_root(text)


def tick_size(ticker: str, instrument: str | None = None, configured: Decimal | str | float | None = None) -> Decimal:
    """The tick of orders for `ticker` (at `instrument`): the ticker's `tick_size` setting, else the futures
    table by the ticker itself or a contract's root, else a cent."""
    if configured not in (None, "", 0):
        return Decimal(str(configured))
    key = (ticker or "").strip().upper().split(":")[-1]
    for name in (key, future_root(key), future_root(instrument)):
        if name and name in FUTURES_TICKS:
            return FUTURES_TICKS[name]
    return STOCK_TICK


def round_to_tick(price: Decimal, tick: Decimal) -> Decimal:
    """`price` on the tick grid (the nearest step; halves away from zero)."""
    if tick <= 0:
        return price
    steps = (price / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (steps * tick).normalize()
