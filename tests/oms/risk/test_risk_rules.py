"""Risk rules: each blocks what it should and only that (a small in-test BookView); the daily loss
guard flattens and halts its scope once; the trading window honours holidays and early closes;
the gate asks them all, in order."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from station.bus import Bus
from station.domain.commands import ClosePosition, FlattenAll, HaltStrategy
from station.domain.config import RoutingConfig, StrategyConfig, TickerConfig
from station.domain.enums import Side
from station.domain.events import Notified
from station.domain.orders import OrderRequest
from station.engine.calendar import TradingCalendars
from station.oms.risk import build_gate
from station.oms.risk.daily_loss import DailyLossGuard, DailyLossRule
from station.oms.risk.limits import RiskLimits
from station.oms.risk.position import MaxPositionRule
from station.oms.risk.window import TradingWindowRule

NY = ZoneInfo("America/New_York")
D = Decimal


class Book:
    """What the oms's book would answer: positions per (destination, ticker, strategy) and PnL per strategy."""

    def __init__(self, positions=None, realized=None, unrealized=None, kill=False, working=None):
        self.positions = positions or {}
        self.working = working or {}
        self.realized = realized or {}
        self.unrealized = unrealized or {}
        self.kill_switch_engaged = kill

    def position(self, destination, ticker, strategy=None):
        return sum((q for (d, t, s), q in self.positions.items()
                    if d == destination and t == ticker and (strategy is None or s == strategy)), D(0))

    def working_qty(self, destination, ticker, strategy=None):
        return self.working.get((destination, ticker), D(0))

    def net_position(self, ticker, strategy=None):
        return sum((q for (d, t, s), q in self.positions.items()
                    if t == ticker and (strategy is None or s == strategy)), D(0))

    def realized_pnl_today(self, strategy=None):
        return self.realized.get(strategy, sum(self.realized.values(), D(0)) if strategy is None else D(0))

    def unrealized_pnl(self, strategy=None):
        return self.unrealized.get(strategy, sum(self.unrealized.values(), D(0)) if strategy is None else D(0))


def order(side="buy", qty=1, strategy="S", ticker="MES", destination="paper"):
    return OrderRequest(client_order_id=f"c-{side}-{qty}-{strategy}", destination=destination, ticker=ticker,
                        side=Side(side), qty=D(qty), strategy=strategy)


def limits(strategies=None, settings=None, tickers=None):
    tickers = tickers or {}
    config = RoutingConfig(revision=1, strategies=tuple(
        StrategyConfig(name, tickers=(TickerConfig("MES", options=tickers.get("MES", {})),
                                      TickerConfig("ES", options=tickers.get("ES", {}))), options={"risk": risk})
        for name, risk in (strategies or {}).items()))
    return RiskLimits(lambda: config, lambda: settings or {})


@pytest.fixture(scope="module")
def calendars():
    return TradingCalendars()


def test_max_position_per_instrument_and_destination():
    rule = MaxPositionRule(limits({"S": {"max_position": 5}}, {"max_position_by_ticker": {"MES": 3}}))
    book = Book({("paper", "MES", "S"): D(2), ("paper", "MES", "T"): D(0), ("ib", "MES", "S"): D(3)})
    assert rule.check(order("buy", 1), book) is None                          # 2 → 3: at the ticker's limit
    reason = rule.check(order("buy", 2), book)
    assert reason == "position in MES at paper would be 4, beyond the maximum of 3 (holding 2; buy 2)"
    assert rule.check(order("sell", 5), book) is None                          # 2 → -3
    assert "would be -4" in rule.check(order("sell", 6), book)
    assert rule.check(order("sell", 1, destination="ib"), book) is None        # reducing, at 3 already
    assert "at ib" in rule.check(order("buy", 1, destination="ib"), book)
    assert rule.check(order("buy", 4, ticker="ES"), book) is None              # ES: strategy limit 5
    assert "beyond the maximum of 5" in rule.check(order("buy", 6, ticker="ES"), book)
    assert rule.check(order("buy", 100, strategy="Other", ticker="ES"), book) is None  # no limit at all


def test_max_position_counts_orders_in_flight_and_takes_the_tightest_limit():
    book = Book({("paper", "ES", "S"): D(2)}, working={("paper", "ES"): D(2)})
    overall = MaxPositionRule(limits({"S": {}}, {"max_position": 5}))
    assert overall.check(order("buy", 1, ticker="ES"), book) is None           # 2 held + 2 in flight + 1 = 5
    assert overall.check(order("buy", 2, ticker="ES"), book) == (
        "position in ES at paper would be 6, beyond the maximum of 5 (holding 2 and +2 in flight; buy 2)")
    # a ticker's own limit replaces the overall one; the strategy's and the per-ticker setting still apply
    own = MaxPositionRule(limits({"S": {}}, {"max_position": 5}, tickers={"ES": {"max_position": 8}}))
    assert own.check(order("buy", 4, ticker="ES"), book) is None
    tight = MaxPositionRule(limits({"S": {"max_position": 4}}, {"max_position": 5},
                                   tickers={"ES": {"max_position": 8}}))
    assert "maximum of 4" in tight.check(order("buy", 1, ticker="ES"), book)
    assert MaxPositionRule(limits({"S": {}}, {"max_position": 0})).check(order("buy", 99), book) is None  # 0: none


def test_daily_loss_per_strategy_and_overall():
    rule = DailyLossRule(limits({"S": {"daily_loss_limit": 500}, "T": {}}, {"daily_loss_limit": 1000}))
    book = Book({("paper", "MES", "S"): D(1)}, realized={"S": D(-400), "T": D(-100)}, unrealized={"S": D(-100)})
    assert rule.check(order("buy", 1, "S"), book) == "daily loss limit 500 of S reached (PnL today -500)"
    assert rule.check(order("sell", 1, "S"), book) is None         # closing the long
    assert rule.check(order("buy", 1, "T"), book) is None          # T has no limit; overall -600 > -1000
    book.realized["T"] = D(-500)
    assert rule.check(order("buy", 1, "T"), book) == "overall daily loss limit 1000 reached (PnL today -1000)"
    # once the guard saw a breach, a recovery of the marks does not reopen it today
    sticky = DailyLossRule(limits({"S": {"daily_loss_limit": 500}}), breached=lambda scope: scope == "S")
    assert "daily loss limit 500 of S" in sticky.check(order("buy"), Book(realized={"S": D(10)}))


def test_trading_window_sessions_holidays_and_early_close(calendars):
    now = {"t": dt.datetime(2024, 1, 4, 10, 0, tzinfo=NY)}
    rule = TradingWindowRule(limits({"S": {"window": {"calendar": "XNYS", "start": "09:45", "end": "15:30"}},
                                     "Full": {"window": {"calendar": "XNYS", "start": None, "end": None}}}),
                             calendars, clock=lambda: now["t"])
    book = Book({("paper", "MES", "S"): D(1)})
    assert rule.check(order("buy"), book) is None
    assert rule.check(order("buy", strategy="NoWindow"), book) is None
    now["t"] = dt.datetime(2024, 1, 4, 9, 40, tzinfo=NY)
    assert rule.check(order("buy"), book) == "S trades 09:45-15:30 XNYS time; it is 09:40"
    assert rule.check(order("sell"), book) is None  # reducing the long is always allowed
    assert rule.check(order("buy", strategy="Full"), book) is None  # 09:40 is inside the whole session
    now["t"] = dt.datetime(2024, 1, 4, 15, 30, tzinfo=NY)
    assert "it is 15:30" in rule.check(order("buy"), book)
    now["t"] = dt.datetime(2024, 7, 4, 11, 0, tzinfo=NY)
    assert rule.check(order("buy"), book) == "S trades on XNYS sessions only: 2024-07-04 has none (holiday or weekend)"
    now["t"] = dt.datetime(2024, 11, 29, 13, 5, tzinfo=NY)  # the close is 13:00 that day
    assert rule.check(order("buy"), book) == "S trades 09:45-13:00 XNYS time (early close today); it is 13:05"
    now["t"] = dt.datetime(2024, 11, 29, 12, 55, tzinfo=NY)
    assert rule.check(order("buy"), book) is None


def test_a_cme_window_is_the_session_the_moment_belongs_to(calendars):
    """CME's session opens at 17:00 CT the evening before its date and halts daily 16:00-17:00 CT."""
    chicago = ZoneInfo("America/Chicago")
    now = {"t": dt.datetime(2025, 5, 13, 18, 30, tzinfo=chicago)}  # a Tuesday evening: Wednesday's session
    rule = TradingWindowRule(limits({"S": {"window": {"calendar": "CMES"}},
                                     "Day": {"window": {"calendar": "CMES", "start": "08:30", "end": "15:00"}}}),
                             calendars, clock=lambda: now["t"])
    book = Book()
    assert rule.check(order("buy"), book) is None
    assert "trades 08:30-15:00 CMES time; it is 18:30" in rule.check(order("buy", strategy="Day"), book)
    now["t"] = dt.datetime(2025, 5, 13, 23, 0, tzinfo=chicago)
    assert rule.check(order("buy"), book) is None
    now["t"] = dt.datetime(2025, 5, 13, 16, 30, tzinfo=chicago)  # inside the daily halt
    assert rule.check(order("buy"), book) == "S trades 17:00-16:00 CMES time; it is 16:30"
    now["t"] = dt.datetime(2025, 5, 13, 15, 59, tzinfo=chicago)
    assert rule.check(order("buy"), book) is None
    assert rule.check(order("buy", strategy="Day"), book) == "Day trades 08:30-15:00 CMES time; it is 15:59"
    now["t"] = dt.datetime(2025, 5, 13, 10, 0, tzinfo=chicago)
    assert rule.check(order("buy", strategy="Day"), book) is None
    now["t"] = dt.datetime(2025, 5, 18, 12, 0, tzinfo=chicago)  # Sunday noon: the week opens at 17:00
    assert rule.check(order("buy"), book) == "S trades on CMES sessions only: 2025-05-18 has none (holiday or weekend)"
    now["t"] = dt.datetime(2025, 5, 18, 17, 5, tzinfo=chicago)
    assert rule.check(order("buy"), book) is None


def test_the_gate_asks_every_rule_in_order(calendars):
    gate = build_gate(Book(), limits(), calendars, breached=lambda scope: False)
    assert [r.name for r in gate.rules] == ["kill switch", "max order qty", "max position", "max open orders",
                                            "daily_loss", "trading_window"]
    assert all(rule.check(order(), Book()) is None for rule in gate.rules)


def test_loss_guard_flattens_and_halts_its_scope_once_a_day():
    bus = Bus()
    seen = []
    for kind in (ClosePosition, FlattenAll, HaltStrategy, Notified):
        bus.subscribe(kind, seen.append)
    now = {"t": dt.datetime(2024, 1, 4, 11, 0, tzinfo=NY)}
    book = Book({("paper", "MES", "S"): D(2), ("ib", "ES", "T"): D(-1)},
                realized={"S": D(-300), "T": D(-100)}, unrealized={"S": D(-250)})
    lim = limits({"S": {"daily_loss_limit": 500}, "T": {"daily_loss_limit": 800}}, {"daily_loss_limit": 2000})
    guard = DailyLossGuard(bus, book, lim, clock=lambda: now["t"])
    guard.check()
    assert [type(m).__name__ for m in seen] == ["ClosePosition", "HaltStrategy", "Notified"]
    assert (seen[0].strategy, seen[0].ticker) == ("S", "MES")
    assert seen[1] == HaltStrategy("S", "daily loss limit 500 reached (PnL today -550)")
    assert guard.breached("S") and not guard.breached("T") and not guard.breached(None)
    guard.check()
    assert len(seen) == 3  # once per day
    book.realized["T"] = D(-1500)  # breaches T (800) and, with S, the overall 2000
    guard.check()
    assert [type(m).__name__ for m in seen[3:]] == ["ClosePosition", "HaltStrategy", "Notified",
                                                     "FlattenAll", "HaltStrategy", "Notified"]
    assert seen[7] == HaltStrategy("*", "overall daily loss limit 2000 reached (PnL today -2050)")
    now["t"] = dt.datetime(2024, 1, 5, 9, 0, tzinfo=NY)  # a new day in New York
    assert not guard.breached("S") and not guard.breached(None)


def test_the_gate_and_the_guard_share_the_breaches(calendars):
    now = dt.datetime(2024, 1, 4, 11, 0, tzinfo=NY)
    book = Book(realized={"S": D(-600)})
    lim = limits({"S": {"daily_loss_limit": 500}})
    guard = DailyLossGuard(Bus(), book, lim, clock=lambda: now)
    gate = build_gate(book, lim, calendars, guard.breached, clock=lambda: now)
    guard.check()
    book.realized["S"] = D(0)  # PnL recovered on paper: still blocked today
    assert "daily loss limit 500 of S" in gate.check(order("buy"))
