"""Symbol -> qualified IB contract: the user's table first, then the built-in rules; front months, 0DTE chains.

Imported only once a broker connects (it imports ib_async). Lookups are cached:
stocks and indexes until the table changes, futures for the day (the roll rule is
date-driven), option chains for the day; at-the-money strikes are picked afresh
from the underlying's price for every order.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Callable, Iterable

import ib_async

from station.brokers.ib import symbols
from station.brokers.ib.parsing import clean_float
from station.brokers.ib.symbols import UnknownSymbol
from station.domain.contract_map import ContractMapping

log = logging.getLogger("station.brokers.ib")

MappingSource = Callable[[], Iterable[ContractMapping]]


class ContractResolver:
    """Turns the symbols orders and feeds name into qualified `ib_async.Contract`s."""

    def __init__(self, ib: ib_async.IB, mappings: MappingSource, today: Callable[[], date]) -> None:
        self.ib = ib
        self._load_mappings = mappings
        self._today = today
        self._table: dict[str, ContractMapping] | None = None
        self._cache: dict[tuple, ib_async.Contract] = {}
        self._chains: dict[tuple, ib_async.OptionChain] = {}
        self._inflight: dict[tuple, asyncio.Task] = {}

    def invalidate(self) -> None:
        """The table changed: forget every mapping and contract looked up so far."""
        self._table = None
        self._cache.clear()
        self._chains.clear()

    def table(self) -> dict[str, ContractMapping]:
        """The user's rows by normalized symbol (read once, until `invalidate`)."""
        if self._table is None:
            self._table = {symbols.normalize(m.tv_symbol): m for m in self._load_mappings()}
        return self._table

    def mapping_for(self, symbol: str) -> ContractMapping:
        """The table's row for `symbol`, else the built-in reading (UnknownSymbol if neither)."""
        return self.table().get(symbols.normalize(symbol)) or symbols.parse_symbol(symbol)

    def reverse(self, sec_type: str, ib_symbol: str) -> str | None:
        """The one table symbol that maps to IB's `ib_symbol` of `sec_type`, if exactly one does."""
        hits = [k for k, m in self.table().items() if m.sec_type == sec_type and m.symbol == ib_symbol]
        return hits[0] if len(hits) == 1 else None

    async def resolve(self, symbol: str) -> ib_async.Contract:
        """The qualified contract for `symbol` today; UnknownSymbol says why there is none."""
        mapping = self.mapping_for(symbol)
        if mapping.sec_type == "OPT" and mapping.strike is None:
            return await self._option(mapping)  # the strike depends on the price now: never cached
        key = (symbols.normalize(symbol), self._today())
        if key in self._cache:
            return self._cache[key]
        task = self._inflight.get(key)
        if task is None:  # a burst of orders for one symbol makes one lookup
            task = self._inflight[key] = asyncio.ensure_future(self._lookup(mapping))
            task.add_done_callback(lambda _t, k=key: self._inflight.pop(k, None))
        contract = await asyncio.shield(task)
        self._cache[key] = contract
        return contract

    async def _lookup(self, m: ContractMapping) -> ib_async.Contract:
        if m.sec_type == "FUT" and not m.expiry:
            return await self._front_month(m)
        if m.sec_type == "OPT":
            return await self._option(m)
        return await self._one(m, base_contract(m))

    async def _details(self, m: ContractMapping, contract: ib_async.Contract) -> list[ib_async.ContractDetails]:
        details = await self.ib.reqContractDetailsAsync(contract)
        if not details:
            raise UnknownSymbol(f"IB has no contract for {m.tv_symbol} ({m.sec_type} {m.symbol} on {m.exchange}"
                                f"{' ' + m.expiry if m.expiry else ''}); check the IB contract table")
        return details

    async def _one(self, m: ContractMapping, contract: ib_async.Contract) -> ib_async.Contract:
        details = await self._details(m, contract)
        if len(details) > 1:
            names = ", ".join(sorted({d.contract.localSymbol or d.contract.symbol for d in details})[:6])
            raise UnknownSymbol(f"{m.tv_symbol} is ambiguous at IB ({names}); add its exchange or expiry to the table")
        found = details[0].contract
        if contract.exchange == "SMART":
            found.exchange = "SMART"  # keep SMART routing; details name the listing exchange
        return found

    async def _front_month(self, m: ContractMapping) -> ib_async.Contract:
        details = await self._details(m, base_contract(m))
        by_expiry = {d.contract.lastTradeDateOrContractMonth: d.contract for d in details}
        chosen = symbols.front_month(list(by_expiry), self._today(), m.roll_days)
        contract = by_expiry[chosen]
        log.info("%s -> %s (front month, expires %s; rolls %d days before)", m.tv_symbol,
                 contract.localSymbol, chosen, m.roll_days)
        return contract

    async def _chain(self, m: ContractMapping, underlying: ib_async.Contract) -> ib_async.OptionChain:
        key = (m.symbol, m.trading_class, self._today())
        if key not in self._chains:
            chains = await self.ib.reqSecDefOptParamsAsync(underlying.symbol, "", underlying.secType, underlying.conId)
            wanted = m.trading_class or m.symbol
            found = [c for c in chains if c.tradingClass == wanted]
            if not found:
                raise UnknownSymbol(f"IB lists no {wanted} options on {m.symbol}")
            self._chains[key] = found[0]
        return self._chains[key]

    async def underlying(self, m: ContractMapping) -> ib_async.Contract:
        """The index or stock an option mapping is written on, qualified."""
        kind = "IND" if m.symbol in symbols.INDEXES else "STK"
        return await self.resolve(m.symbol if kind == "IND" else m.symbol.replace(" ", "."))

    async def last_price(self, contract: ib_async.Contract) -> float:
        """The underlying's price now (a snapshot): last, else the mid, else the close."""
        [ticker] = await asyncio.wait_for(self.ib.reqTickersAsync(contract), 10)
        for value in (ticker.last, ticker.midpoint(), ticker.close):
            price = clean_float(value)
            if price is not None and price > 0:
                return price
        raise UnknownSymbol(f"no price for {contract.symbol} to find the at-the-money strike")

    async def _option(self, m: ContractMapping) -> ib_async.Contract:
        underlying = await self.underlying(m)
        chain = await self._chain(m, underlying)
        expiry = m.expiry or symbols.zero_dte_expiry(list(chain.expirations), self._today())
        strike = float(m.strike) if m.strike is not None else symbols.pick_strike(
            list(chain.strikes), await self.last_price(underlying), m.right, m.strike_offset)
        key = ("OPT", m.symbol, m.trading_class, expiry, strike, m.right)
        if key not in self._cache:
            option = ib_async.Option(m.symbol, expiry, strike, m.right, m.exchange, currency=m.currency,
                                     tradingClass=m.trading_class, multiplier=m.multiplier)
            self._cache[key] = await self._one(m, option)
        return self._cache[key]


def base_contract(m: ContractMapping) -> ib_async.Contract:
    """The request contract a mapping describes (before IB fills in conId and the rest)."""
    return ib_async.Contract(secType=m.sec_type, symbol=m.symbol, exchange=m.exchange,
                             primaryExchange=m.primary_exchange, currency=m.currency,
                             lastTradeDateOrContractMonth=m.expiry,
                             strike=float(m.strike) if m.strike is not None else 0.0, right=m.right,
                             tradingClass=m.trading_class, multiplier=m.multiplier)


def describe(contract: ib_async.Contract, mapping: ContractMapping | None = None) -> str:
    """A contract in the words the trader checks: local symbol, venue, expiry, and the roll date."""
    name = contract.localSymbol or contract.symbol
    parts = [f"{contract.secType} {name}", f"conId {contract.conId}", contract.exchange or ""]
    expiry = contract.lastTradeDateOrContractMonth
    if expiry:
        parts.append(f"expires {expiry[:4]}-{expiry[4:6]}-{expiry[6:8]}" if len(expiry) >= 8 else f"month {expiry}")
        if contract.secType == "FUT" and mapping is not None and not mapping.expiry and len(expiry) >= 8:
            parts.append(f"rolls {symbols.roll_date(symbols.ib_date(expiry), mapping.roll_days):%Y-%m-%d}")
    if contract.secType == "OPT":
        parts.append(f"{contract.right} {contract.strike:g} ×{contract.multiplier or 100}")
    return ", ".join(p for p in parts if p)
