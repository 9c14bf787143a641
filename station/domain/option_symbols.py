"""Option contracts as their symbols name them (OCC, and the short form traders type): pure parsing.

OCC option symbols are `ROOT` left-justified to 6, `YYMMDD`, `C|P`, strike x 1000 on 8 digits:
`SPXW  240104C04700000` is the SPX weekly 4700 call expiring 2024-01-04. Brokers send them;
the IB contract rules and the window read them too, so they live with the domain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from station.domain.enums import OptionRight

# OCC with or without the padding ("SPXW  240104C04700000", "SPXW240104C04700000"),
# and the short form traders type (".SPXW240104C4700", "SPXW 240104C4700.5").
_OCC = re.compile(r"^([A-Z][A-Z0-9]{0,5})\s*(\d{6})([CP])(\d{8})$")
_SHORT = re.compile(r"^\.?([A-Z][A-Z0-9]{0,5})\s*(\d{6})([CP])(\d{1,5}(?:\.\d{1,3})?)$")


@dataclass(frozen=True, slots=True)
class OptionSymbol:
    """One listed option contract."""

    root: str
    expiry: date
    right: OptionRight
    strike: Decimal

    @property
    def occ(self) -> str:
        """The padded 21-character OCC symbol both Schwab and Tastytrade take."""
        right = "C" if self.right is OptionRight.CALL else "P"
        return f"{self.root:<6}{self.expiry:%y%m%d}{right}{int(self.strike * 1000):08d}"


def parse_option(symbol: str) -> OptionSymbol | None:
    """The contract an OCC (or short-form) option symbol names, or None if it is not one."""
    text = symbol.strip().upper()
    match = _OCC.match(text)
    if match:
        root, ymd, cp, strike = match.groups()
        value = Decimal(strike) / 1000
    else:
        match = _SHORT.match(text)
        if not match:
            return None
        root, ymd, cp, strike = match.groups()
        try:
            value = Decimal(strike)
        except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
            return None
    try:
        expiry = date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:]))
    except ValueError:
        return None
    if value <= 0:
        return None
    return OptionSymbol(root, expiry, OptionRight.CALL if cp == "C" else OptionRight.PUT, value)
