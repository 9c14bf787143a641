"""How a symbol as Station knows it (a TradingView ticker) becomes a broker contract (IB's terms).

One `ContractMapping` per symbol: the user edits them in a table; symbols without a
row are read by the built-in rules (`station/domain/contract_rules.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

SEC_TYPES = ("STK", "FUT", "OPT", "IND", "CASH")
RIGHTS = ("C", "P")
DEFAULT_ROLL_DAYS = 8
_EXPIRY = re.compile(r"^\d{6}(\d{2})?$")


@dataclass(frozen=True, slots=True)
class ContractMapping:
    """One symbol's contract: kind, IB symbol, venue, and for futures/options how the expiry is chosen.

    `expiry` empty means: futures take the front month (rolled `roll_days` calendar days
    before the last trading day); options take today's expiry (0DTE) and, without a
    `strike`, the strike `strike_offset` steps out of the money from the at-the-money one.
    """

    tv_symbol: str
    sec_type: str
    symbol: str
    exchange: str = "SMART"
    primary_exchange: str = ""
    currency: str = "USD"
    expiry: str = ""
    strike: Decimal | None = None
    right: str = ""
    strike_offset: int = 0
    trading_class: str = ""
    multiplier: str = ""
    roll_days: int = DEFAULT_ROLL_DAYS
    note: str = ""

    def __post_init__(self) -> None:
        errors = self.problems()
        if errors:
            raise ValueError("; ".join(f"{k}: {v}" for k, v in errors.items()))

    def problems(self) -> dict[str, str]:
        """Field name -> why it is wrong (empty when the mapping is usable)."""
        errors: dict[str, str] = {}
        if not self.tv_symbol.strip():
            errors["tv_symbol"] = "is empty"
        if self.sec_type not in SEC_TYPES:
            errors["sec_type"] = f"must be one of {', '.join(SEC_TYPES)}"
        if not self.symbol.strip():
            errors["symbol"] = "is empty"
        if not self.exchange.strip():
            errors["exchange"] = "is empty"
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            errors["currency"] = "must be a 3-letter code such as USD"
        if self.expiry and not _EXPIRY.match(self.expiry):
            errors["expiry"] = "must be YYYYMM or YYYYMMDD, or empty for the front month / today"
        if self.sec_type == "OPT" and self.right not in RIGHTS:
            errors["right"] = "an option needs C (call) or P (put)"
        if self.sec_type != "OPT" and self.right:
            errors["right"] = "only options have a right"
        if self.strike is not None and (not self.strike.is_finite() or self.strike <= 0):
            errors["strike"] = "must be a positive number"
        if not 0 <= self.roll_days <= 60:
            errors["roll_days"] = "must be between 0 and 60"
        if not -50 <= self.strike_offset <= 50:
            errors["strike_offset"] = "must be between -50 and 50"
        return errors

    def rule(self) -> str:
        """How the contract is chosen, in words the trader reads in the table."""
        if self.sec_type == "FUT":
            if self.expiry:
                return f"fixed expiry {self.expiry}"
            return f"front month; rolls {self.roll_days} days before the last trading day"
        if self.sec_type == "OPT":
            when = f"expiry {self.expiry}" if self.expiry else "today's expiry (0DTE)"
            if self.strike is not None:
                where = f"strike {self.strike}"
            elif self.strike_offset == 0:
                where = "at the money"
            else:
                where = f"{abs(self.strike_offset)} strike(s) {'out of' if self.strike_offset > 0 else 'into'} the money"
            return f"{when}, {where}, {'call' if self.right == 'C' else 'put'}"
        if self.sec_type == "STK":
            return f"{self.exchange}" + (f" (primary {self.primary_exchange})" if self.primary_exchange else "")
        return self.exchange
