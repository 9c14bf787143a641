"""The fake TWS's security master: stocks, quarterly index futures, SPX and its daily (SPXW) options.

Listings are computed from `today`, so the front month and today's 0DTE chain are
always there, whatever day the tests run.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from datetime import date, timedelta


@dataclass(frozen=True)
class Security:
    """One contract as TWS describes it."""

    con_id: int
    symbol: str
    sec_type: str
    exchange: str
    currency: str = "USD"
    primary_exchange: str = ""
    last_trade: str = ""  # YYYYMMDD for futures and options
    strike: float = 0.0
    right: str = ""
    multiplier: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    long_name: str = ""
    min_tick: float = 0.01

    @property
    def contract_fields(self) -> list:
        """The 12 contract fields of execDetails/position/openOrder (conId … tradingClass, no primary)."""
        return [self.con_id, self.symbol, self.sec_type, self.last_trade, _num(self.strike), self.right,
                self.multiplier, self.exchange, self.currency, self.local_symbol, self.trading_class]

    @property
    def multiplier_value(self) -> float:
        return float(self.multiplier) if self.multiplier else 1.0


def _num(value: float) -> str:
    return "0" if not value else repr(float(value))


def third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


STOCKS = [
    (265598, "AAPL", "NASDAQ", "APPLE INC"), (76792991, "TSLA", "NASDAQ", "TESLA INC"),
    (272093, "MSFT", "NASDAQ", "MICROSOFT CORP"), (756733, "SPY", "ARCA", "SPDR S&P 500 ETF TRUST"),
    (8314, "IBM", "NYSE", "INTL BUSINESS MACHINES CORP"), (72063691, "BRK B", "NYSE", "BERKSHIRE HATHAWAY INC-CL B"),
    (4391, "AMD", "NASDAQ", "ADVANCED MICRO DEVICES"), (4815747, "NVDA", "NASDAQ", "NVIDIA CORP"),
]
FUTURES = [("ES", "50", 0.25), ("MES", "5", 0.25), ("NQ", "20", 0.25), ("MNQ", "2", 0.25)]
MONTH_CODES = "FGHJKMNQUVXZ"
SPX_CON_ID = 416904


class SecurityMaster:
    """Every contract the fake knows, and IB's matching rules for contract-details requests."""

    def __init__(self, today: date, spx: float = 5800.0) -> None:
        self.today = today
        self.spx = spx
        self.securities: list[Security] = []
        for con_id, symbol, primary, name in STOCKS:
            self.securities.append(Security(con_id, symbol, "STK", "SMART", primary_exchange=primary,
                                            local_symbol=symbol, trading_class="NMS", long_name=name))
        for root, multiplier, tick in FUTURES:
            for expiry in self.quarterly_expiries(5):
                local = f"{root}{MONTH_CODES[expiry.month - 1]}{expiry.year % 10}"
                self.securities.append(Security(_con_id(local), root, "FUT", "CME", last_trade=f"{expiry:%Y%m%d}",
                                                multiplier=multiplier, local_symbol=local, trading_class=root,
                                                min_tick=tick, long_name=f"{root} {expiry:%b%y}"))
        self.securities.append(Security(SPX_CON_ID, "SPX", "IND", "CBOE", local_symbol="SPX", long_name="S&P 500 Stock Index"))
        self.securities += self.spxw_chain()

    def quarterly_expiries(self, count: int) -> list[date]:
        found, year, month = [], self.today.year, 3
        while len(found) < count:
            day = third_friday(year, month)
            if day >= self.today:
                found.append(day)
            month += 3
            if month > 12:
                year, month = year + 1, 3
        return found

    def daily_expiries(self, count: int = 5) -> list[date]:
        days, day = [], self.today
        while len(days) < count:
            if day.weekday() < 5:
                days.append(day)
            day += timedelta(days=1)
        return days

    def spxw_strikes(self) -> list[float]:
        centre = round(self.spx / 5) * 5
        return [float(centre + 5 * i) for i in range(-20, 21)]

    def spxw_chain(self) -> list[Security]:
        chain = []
        for expiry in self.daily_expiries():
            for strike in self.spxw_strikes():
                for right in "CP":
                    local = f"SPXW  {expiry:%y%m%d}{right}{int(strike * 1000):08d}"
                    chain.append(Security(_con_id(local), "SPX", "OPT", "SMART", last_trade=f"{expiry:%Y%m%d}",
                                          strike=strike, right=right, multiplier="100", local_symbol=local,
                                          trading_class="SPXW", min_tick=0.05))
        return chain

    def by_con_id(self, con_id: int) -> Security | None:
        return next((s for s in self.securities if s.con_id == con_id), None)

    def match(self, query: dict) -> list[Security]:
        """Contracts matching a request's fields, as TWS reads them (blank means any)."""
        con_id = int(query.get("conId") or 0)
        if con_id:
            found = self.by_con_id(con_id)
            return [found] if found else []
        hits = []
        for sec in self.securities:
            if query.get("symbol") and query["symbol"] != sec.symbol:
                continue
            if query.get("secType") and query["secType"] != sec.sec_type:
                continue
            expiry = query.get("lastTradeDateOrContractMonth") or ""
            if expiry and not sec.last_trade.startswith(expiry):
                continue
            strike = float(query.get("strike") or 0)
            if strike and abs(strike - sec.strike) > 1e-9:
                continue
            right = (query.get("right") or "")[:1]
            if right and right != sec.right:
                continue
            exchange = query.get("exchange") or ""
            if exchange and exchange != "SMART" and exchange != sec.exchange:
                continue
            primary = query.get("primaryExchange") or ""
            if primary and sec.primary_exchange and primary != sec.primary_exchange:
                continue
            for key, value in (("currency", sec.currency), ("localSymbol", sec.local_symbol),
                               ("tradingClass", sec.trading_class), ("multiplier", sec.multiplier)):
                if query.get(key) and query[key] != value:
                    break
            else:
                hits.append(sec)
        exchange = query.get("exchange") or ""
        if exchange:
            hits = [replace(h, exchange=exchange) if h.sec_type == "STK" else h for h in hits]
        return hits


def _con_id(text: str) -> int:
    return 100_000_000 + zlib.crc32(text.encode()) % 800_000_000
