"""Built-in rules that read a TradingView-style symbol as an IB contract, and pick expiries and strikes.

Pure functions (no socket, no ib_async): the user's mapping table comes first;
these rules cover what it does not list.

    AAPL, NASDAQ:AAPL, BRK.B          stock, SMART routing (primary exchange when named)
    ES1!, CME_MINI:MES1!              future, front month (rolled by the mapping's rule)
    ESZ2025, MESZ25, MES 12-26        future, that month
    SPX                               index
    SPXW 2025-03-03 5800C             option, that expiry and strike
    SPXW 0DTE C, SPXW 0DTE +2 P       option, today's expiry, at the money (+n out of the money)
    SPXW  250303C05800000             option in OCC form (a 0DTE strategy's contract)
"""

from __future__ import annotations

import re
from bisect import bisect_left
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from station.brokers.rest.symbols import parse_option
from station.domain.contract_map import ContractMapping
from station.domain.enums import OptionRight

MONTH_CODES = "FGHJKMNQUVXZ"

# Futures roots: IB symbol, exchange. TradingView uses CME's root names; IB differs for currencies.
FUTURES: dict[str, tuple[str, str]] = {
    "ES": ("ES", "CME"), "MES": ("MES", "CME"), "NQ": ("NQ", "CME"), "MNQ": ("MNQ", "CME"),
    "RTY": ("RTY", "CME"), "M2K": ("M2K", "CME"), "YM": ("YM", "CBOT"), "MYM": ("MYM", "CBOT"),
    "ZB": ("ZB", "CBOT"), "ZN": ("ZN", "CBOT"), "ZF": ("ZF", "CBOT"), "ZT": ("ZT", "CBOT"),
    "ZC": ("ZC", "CBOT"), "ZS": ("ZS", "CBOT"), "ZW": ("ZW", "CBOT"),
    "CL": ("CL", "NYMEX"), "MCL": ("MCL", "NYMEX"), "NG": ("NG", "NYMEX"), "QM": ("QM", "NYMEX"),
    "GC": ("GC", "COMEX"), "MGC": ("MGC", "COMEX"), "SI": ("SI", "COMEX"), "HG": ("HG", "COMEX"),
    "6E": ("EUR", "CME"), "6J": ("JPY", "CME"), "6B": ("GBP", "CME"), "6A": ("AUD", "CME"),
    "6C": ("CAD", "CME"), "6S": ("CHF", "CME"), "VX": ("VIX", "CFE"),
}
INDEXES: dict[str, str] = {"SPX": "CBOE", "NDX": "NASDAQ", "RUT": "RUSSELL", "VIX": "CBOE", "XSP": "CBOE"}
# Index options trade under classes (SPXW: the daily expiries) of their underlying index.
OPTION_ROOTS: dict[str, str] = {"SPX": "SPX", "SPXW": "SPX", "XSP": "XSP", "NDXP": "NDX"}
STOCK_EXCHANGES = {"NASDAQ": "NASDAQ", "NYSE": "NYSE"}  # TradingView prefixes that name IB's primary exchange

_CONTINUOUS = re.compile(r"^([A-Z0-9]{1,4}?)(\d)!$")
_MONTH_YEAR = re.compile(r"^([A-Z0-9]{1,4}?)([FGHJKMNQUVXZ])(\d{2}|\d{4})$")
_NT_STYLE = re.compile(r"^([A-Z0-9]{1,4}) (\d{2})-(\d{2})$")
_OPTION = re.compile(r"^([A-Z]{1,6}) (\d{4}-?\d{2}-?\d{2}) (\d+(?:\.\d+)?)([CP])$")
_ZERO_DTE = re.compile(r"^([A-Z]{1,6}) 0DTE(?: ([+-]\d{1,2}|ATM))? (C|P|CALL|PUT)$")
_STOCK = re.compile(r"^[A-Z][A-Z0-9]{0,5}([.][A-Z]{1,2})?$")


class UnknownSymbol(ValueError):
    """A symbol no rule can read as a contract (the user can add it to the mapping table)."""


def normalize(text: str) -> str:
    """The key a symbol is looked up by: trimmed, upper case, single spaces."""
    return " ".join(str(text).split()).upper()


def parse_symbol(text: str) -> ContractMapping:
    """Read `text` by the built-in rules; UnknownSymbol says why not."""
    key = normalize(text)
    if not key:
        raise UnknownSymbol("the symbol is empty")
    prefix, _, bare = key.rpartition(":")
    if option := _parse_option(bare, key):
        return option
    if future := _parse_future(bare, key):
        return future
    if bare in INDEXES:
        return ContractMapping(key, "IND", bare, exchange=INDEXES[bare])
    if _STOCK.match(bare):
        return ContractMapping(key, "STK", bare.replace(".", " "), exchange="SMART",
                               primary_exchange=STOCK_EXCHANGES.get(prefix, ""))
    raise UnknownSymbol(f"{text!r} is not a symbol Station can map to an IB contract; add it to the IB contract table")


def _parse_future(bare: str, key: str) -> ContractMapping | None:
    match = _CONTINUOUS.match(bare)
    if match and match.group(1) in FUTURES:
        if match.group(2) != "1":
            raise UnknownSymbol(f"{key!r}: only the front month (1!) is mapped by rule; "
                                "name the month (e.g. ESZ2025) or add a row to the IB contract table")
        symbol, exchange = FUTURES[match.group(1)]
        return ContractMapping(key, "FUT", symbol, exchange=exchange)
    match = _MONTH_YEAR.match(bare)
    if match and match.group(1) in FUTURES:
        symbol, exchange = FUTURES[match.group(1)]
        year = int(match.group(3))
        year = year + 2000 if year < 100 else year
        month = MONTH_CODES.index(match.group(2)) + 1
        return ContractMapping(key, "FUT", symbol, exchange=exchange, expiry=f"{year:04d}{month:02d}")
    match = _NT_STYLE.match(bare)
    if match and match.group(1) in FUTURES:
        symbol, exchange = FUTURES[match.group(1)]
        month, year = int(match.group(2)), 2000 + int(match.group(3))
        if not 1 <= month <= 12:
            raise UnknownSymbol(f"{key!r}: month {month} does not exist")
        return ContractMapping(key, "FUT", symbol, exchange=exchange, expiry=f"{year:04d}{month:02d}")
    return None


def _parse_option(bare: str, key: str) -> ContractMapping | None:
    match = _OPTION.match(bare)
    if match:
        root, expiry, strike, right = match.groups()
        expiry = expiry.replace("-", "")
        try:
            date(int(expiry[:4]), int(expiry[4:6]), int(expiry[6:]))
            value = Decimal(strike)
        except (ValueError, InvalidOperation):
            raise UnknownSymbol(f"{key!r}: {expiry} is not a date") from None
        return _option(key, root, right, expiry=expiry, strike=value)
    match = _ZERO_DTE.match(bare)
    if match:
        root, offset, right = match.groups()
        return _option(key, root, right[0], strike_offset=0 if offset in (None, "ATM") else int(offset))
    occ = parse_option(bare)  # OCC, as a 0DTE strategy names its contract: `SPXW  250515C05900000`
    if occ is not None:
        return _option(key, occ.root, "C" if occ.right is OptionRight.CALL else "P", expiry=f"{occ.expiry:%Y%m%d}",
                       strike=occ.strike)
    return None


def _option(key: str, root: str, right: str, **fields) -> ContractMapping:
    underlying = OPTION_ROOTS.get(root, root)
    return ContractMapping(key, "OPT", underlying, exchange="SMART", right=right, trading_class=root, **fields)


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
