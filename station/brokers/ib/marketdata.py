"""IB as a market data source: trade prints (or quote mids) as `TickReceived`, 5-second bars as `BarUpdated`.

Symbols are named as everywhere else in Station (TradingView style) and mapped
through the same contract table as orders; ticks carry that name, so the bar
builders make bars from IB exactly as from any other feed. TWS forgets
subscriptions with the connection, so `restore()` runs after every (re)connect.
"""

from __future__ import annotations

import logging
from datetime import timezone

from station.brokers.ib.config import IBSettings
from station.brokers.ib.parsing import clean_float
from station.brokers.ib.symbols import UnknownSymbol
from station.bus import Bus
from station.domain.events import BarUpdated, Notified, TickReceived
from station.domain.marketdata import Bar, Tick
from station.domain.timeutil import utc_now

log = logging.getLogger("station.brokers.ib")

TRADE_TICK_TYPES = frozenset({4, 68})  # last (and delayed last) price with its size
BAR_SECONDS = 5  # IB's real-time bars come in one size


class IBMarketData:
    """Subscribes the destination's `market_data` symbols and publishes what arrives."""

    def __init__(self, name: str, ib, resolver, bus: Bus, settings: IBSettings) -> None:
        self.name, self.ib, self.resolver, self.bus, self.settings = name, ib, resolver, bus, settings
        self.symbols = list(settings.market_data)
        self.failed: dict[str, str] = {}
        self._tickers: dict[int, tuple[str, object]] = {}  # id(Ticker) -> (symbol, contract)
        self._primed: set[int] = set()  # tickers whose subscription snapshot has gone by
        self._bars: dict[int, tuple[str, object]] = {}  # id(RealTimeBarList) -> (symbol, list)
        self._last_mid: dict[str, float] = {}
        ib.pendingTickersEvent += self._on_tickers
        ib.barUpdateEvent += self._on_bars

    async def restore(self, *, fresh: bool = True) -> None:
        """Subscribe every symbol; `fresh=False` (same connection) cancels the old subscriptions first."""
        if not fresh:
            for _symbol, contract in self._tickers.values():
                self.ib.cancelMktData(contract)
            for _symbol, bars in self._bars.values():
                self.ib.cancelRealTimeBars(bars)
        self._tickers.clear()
        self._primed.clear()
        self._bars.clear()
        self.failed.clear()
        for symbol in self.symbols:
            try:
                contract = await self.resolver.resolve(symbol)
            except UnknownSymbol as exc:
                self.failed[symbol] = str(exc)
                log.warning("%s: no market data for %s: %s", self.name, symbol, exc)
                self.bus.publish(Notified(f"IB {self.name} market data", f"{symbol}: {exc}", "warning"))
                continue
            if self.settings.ticks != "off":
                ticker = self.ib.reqMktData(contract, "", False, False)
                self._tickers[id(ticker)] = (symbol, contract)
            if self.settings.realtime_bars:
                bars = self.ib.reqRealTimeBars(contract, BAR_SECONDS, self.settings.bar_source.upper(), False)
                self._bars[id(bars)] = (symbol, bars)
        log.info("%s: streaming %d symbols (%s%s)", self.name, len(self.symbols) - len(self.failed),
                 self.settings.ticks, ", 5 s bars" if self.settings.realtime_bars else "")

    def _on_tickers(self, tickers) -> None:
        for ticker in tickers:
            entry = self._tickers.get(id(ticker))
            if entry is None:
                continue
            symbol = entry[0]
            if self.settings.ticks == "quotes":
                self._quote(symbol, ticker)
                continue
            for tick in ticker.ticks:
                price, size = clean_float(tick.price), clean_float(tick.size)
                if tick.tickType not in TRADE_TICK_TYPES or not price or price <= 0 or not size or size <= 0:
                    continue
                if id(ticker) not in self._primed:
                    # TWS answers a subscription with the last trade it already had, indistinguishable from
                    # a new one: pass its price on (it is the market's price) but not its size, so a
                    # reconnect never counts an old trade's volume twice.
                    self._primed.add(id(ticker))
                    size = 0.0
                self.bus.publish(TickReceived(Tick(symbol, _aware(tick.time), price, size)))

    def _quote(self, symbol: str, ticker) -> None:
        bid, ask = clean_float(ticker.bid), clean_float(ticker.ask)
        if not bid or not ask or bid <= 0 or ask < bid:
            return  # one side missing (IB's -1) or crossed: no honest mid
        mid = (bid + ask) / 2
        if self._last_mid.get(symbol) != mid:
            self._last_mid[symbol] = mid
            self.bus.publish(TickReceived(Tick(symbol, _aware(ticker.time), mid, 0.0)))

    def _on_bars(self, bars, has_new_bar: bool) -> None:
        entry = self._bars.get(id(bars))
        if entry is None or not has_new_bar or not bars:
            return
        bar = bars[-1]
        values = [clean_float(v) for v in (bar.open_, bar.high, bar.low, bar.close)]
        if any(v is None for v in values):
            return
        self.bus.publish(BarUpdated(Bar(entry[0], f"{BAR_SECONDS}s", _aware(bar.time), *values,
                                        volume=clean_float(bar.volume) or 0.0, closed=True)))


def _aware(value) -> object:
    if value is None or getattr(value, "tzinfo", None) is None:
        return utc_now() if value is None else value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
