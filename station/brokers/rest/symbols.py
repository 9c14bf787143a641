"""What a symbol sent to a broker is (equity, future, OCC option) and whether an order opens or closes.

Pure functions shared by the REST brokers (Schwab, Tastytrade). OCC option symbols are
`ROOT` left-justified to 6, `YYMMDD`, `C|P`, strike x 1000 on 8 digits:
`SPXW  240104C04700000` is the SPX weekly 4700 call expiring 2024-01-04.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from station.brokers.protocol import BrokerError
from station.domain.enums import AssetClass, OptionRight, Side

# OCC with or without the padding ("SPXW  240104C04700000", "SPXW240104C04700000"),
# and the short form traders type (".SPXW240104C4700", "SPXW 240104C4700.5").
_OCC = re.compile(r"^([A-Z][A-Z0-9]{0,5})\s*(\d{6})([CP])(\d{8})$")
_SHORT = re.compile(r"^\.?([A-Z][A-Z0-9]{0,5})\s*(\d{6})([CP])(\d{1,5}(?:\.\d{1,3})?)$")
_FUTURE = re.compile(r"^/[A-Z0-9]{1,6}[FGHJKMNQUVXZ]\d{1,2}$")


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


def occ_symbol(root: str, expiry: date, right: OptionRight, strike: Decimal) -> str:
    """The OCC symbol of a contract (e.g. for a 0DTE SPXW call)."""
    strike = Decimal(strike)
    if strike <= 0 or strike * 1000 != int(strike * 1000) or strike >= 100000:
        raise ValueError(f"invalid option strike {strike}")
    return OptionSymbol(root.strip().upper(), expiry, right, strike).occ


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


def is_future(symbol: str) -> bool:
    """A futures contract in the slash notation both brokers use (`/ESZ5`, `/MESH26`)."""
    return bool(_FUTURE.match(symbol.strip().upper()))


def asset_class(symbol: str) -> AssetClass:
    """Stock, future or option, from the symbol's shape."""
    if is_future(symbol):
        return AssetClass.FUTURE
    if parse_option(symbol) is not None:
        return AssetClass.OPTION
    return AssetClass.STOCK


def symbol_key(symbol: str) -> str:
    """One spelling per instrument: upper case, OCC options in full without padding."""
    option = parse_option(symbol)
    return "".join((option.occ if option else symbol).split()).upper()


def same_symbol(a: str, b: str) -> bool:
    """Equal symbols, whatever the case, the OCC padding or the option spelling."""
    return symbol_key(a) == symbol_key(b)


def opens(side: Side, qty: Decimal, position: Decimal, symbol: str) -> bool:
    """True if the order opens (or adds to) a position, False if it closes part or all of one.

    An order that would close and reopen on the other side in one go is refused:
    equity and option instructions at these brokers are either opening or closing.
    """
    signed = qty * side.sign
    if position == 0 or (position > 0) == (signed > 0):
        return True
    if abs(signed) > abs(position):
        raise BrokerError(f"{side} {qty} {symbol} would close the position of {position} and open the other "
                          f"side in one order; send the close and the new position as two orders")
    return False


def whole_quantity(qty: Decimal, symbol: str) -> int:
    """The order quantity as a whole number of shares or contracts."""
    if qty != qty.to_integral_value():
        raise BrokerError(f"fractional quantity {qty} of {symbol} cannot be sent; use whole shares or contracts")
    return int(qty)


def price_text(value: Decimal) -> str:
    """A price as plain decimal text (no exponent), as the REST APIs expect."""
    return format(value.normalize(), "f")
