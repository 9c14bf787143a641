"""What is traded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from station.domain.enums import AssetClass, OptionRight


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument; `symbol` is the name Station uses (e.g. `AAPL`, `MES`, `SPXW`)."""

    symbol: str
    asset_class: AssetClass = AssetClass.STOCK
    exchange: str | None = None
    currency: str = "USD"
    multiplier: Decimal = Decimal(1)
    tick_size: Decimal | None = None
    expiry: date | None = None
    strike: Decimal | None = None
    right: OptionRight | None = None
    underlying: str | None = None

    def __post_init__(self) -> None:
        if not self.symbol or not self.symbol.strip():
            raise ValueError("instrument symbol is empty")
        if self.asset_class is AssetClass.OPTION and (
            self.expiry is None or self.strike is None or self.right is None
        ):
            raise ValueError(f"option {self.symbol} needs expiry, strike and right")
        if self.multiplier <= 0:
            raise ValueError(f"multiplier of {self.symbol} must be positive")

    def __str__(self) -> str:
        if self.asset_class is AssetClass.OPTION:
            right = "C" if self.right is OptionRight.CALL else "P"
            return f"{self.symbol} {self.expiry:%Y-%m-%d} {self.strike}{right}"
        return self.symbol
