"""What a symbol sent to a broker is (equity, future, OCC option) and whether an order opens or closes.

Pure functions shared by the REST brokers (Schwab, Tastytrade). OCC option symbols are read by
`station/domain/option_symbols.py` (the IB contract rules and the window read them too).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from station.brokers.protocol import BrokerError
from station.domain.enums import AssetClass, OptionRight, Side
from station.domain.option_symbols import OptionSymbol, parse_option  # noqa: F401  (the brokers' names for them)

_FUTURE = re.compile(r"^/[A-Z0-9]{1,6}[FGHJKMNQUVXZ]\d{1,2}$")


def occ_symbol(root: str, expiry: date, right: OptionRight, strike: Decimal) -> str:
    """The OCC symbol of a contract (e.g. for a 0DTE SPXW call)."""
    strike = Decimal(strike)
    if strike <= 0 or strike * 1000 != int(strike * 1000) or strike >= 100000:
        raise ValueError(f"invalid option strike {strike}")
    return OptionSymbol(root.strip().upper(), expiry, right, strike).occ


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
