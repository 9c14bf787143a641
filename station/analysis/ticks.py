"""Tick sizes for expressing slippage in ticks: the ticker's `tick_size` setting, else a known contract, else a cent."""

from __future__ import annotations

import re

from station.domain.config import RoutingConfig

# Minimum price increments of the futures TradingView strategies trade most (CME Group, ICE US).
# A ticker's own `tick_size` in the config wins over this table.
FUTURES_TICKS = {
    "ES": 0.25, "MES": 0.25, "NQ": 0.25, "MNQ": 0.25, "RTY": 0.1, "M2K": 0.1, "YM": 1.0, "MYM": 1.0,
    "EMD": 0.1, "NKD": 5.0, "CL": 0.01, "MCL": 0.01, "QM": 0.025, "NG": 0.001, "QG": 0.005, "RB": 0.0001,
    "HO": 0.0001, "GC": 0.1, "MGC": 0.1, "SI": 0.005, "SIL": 0.005, "HG": 0.0005, "MHG": 0.0005, "PL": 0.1,
    "PA": 0.5, "ZB": 1 / 32, "UB": 1 / 32, "ZN": 1 / 64, "TN": 1 / 64, "ZF": 1 / 128, "ZT": 1 / 256,
    "6E": 0.00005, "M6E": 0.0001, "6J": 0.0000005, "6B": 0.0001, "6A": 0.00005, "6C": 0.00005, "6S": 0.00005,
    "ZC": 0.25, "ZS": 0.25, "ZW": 0.25, "ZL": 0.01, "ZM": 0.1, "LE": 0.025, "HE": 0.025, "GF": 0.025,
    "BTC": 5.0, "MBT": 5.0, "ETH": 0.5, "MET": 0.5, "VX": 0.05, "BRN": 0.01,
}
STOCK_TICK = 0.01

# A futures contract as TradingView or a destination writes it: `ESZ6`, `ESZ2026`, `ES1!`, `MES 12-26`.
_CONTRACT = re.compile(r"^([A-Z0-9]{1,4}?)(?:[FGHJKMNQUVXZ]\d{1,4}|\d!)$")


def future_root(symbol: str | None) -> str | None:
    """The root of a symbol written as a futures contract (`ES` for `CME_MINI:ES1!`), else None."""
    text = (symbol or "").strip().upper().split(":")[-1]
    if not text:
        return None
    if " " in text:
        return text.split()[0]
    match = _CONTRACT.match(text)
    return match.group(1) if match else None


class TickSizes:
    """The tick size of a ticker: its config `tick_size`, else the futures table, else a cent.

    A bare root such as `ES` is also a stock symbol (Eversource); it is taken as the future
    only when its orders carry a point value other than 1 or name a contract.
    """

    def __init__(self, configured: dict[str, float] | None = None) -> None:
        self._configured = {k.upper(): float(v) for k, v in (configured or {}).items()}

    @classmethod
    def from_config(cls, config: RoutingConfig) -> "TickSizes":
        """Every `tick_size` set on a strategy's ticker (the first one set wins for a ticker)."""
        configured: dict[str, float] = {}
        for strategy in config.strategies:
            for ticker in strategy.tickers:
                size = ticker.options.get("tick_size")
                if size:
                    configured.setdefault(ticker.ticker.upper(), float(size))
        return cls(configured)

    def size(self, ticker: str | None, instrument: str | None = None, point_value: float = 1.0) -> float:
        """The tick size for orders of `ticker` (at `instrument`, worth `point_value` a point)."""
        key = (ticker or "").strip().upper()
        if key in self._configured:
            return self._configured[key]
        root = future_root(key) or future_root(instrument)
        if root is None and point_value not in (0, 1) and key:
            root = key
        if root is not None:
            return self._configured.get(root) or FUTURES_TICKS.get(root) or STOCK_TICK
        return STOCK_TICK
