"""0DTE SPX options: ATM strike, expiry = today in New York (also after midnight UTC), auto-close
time before the close (early closes honoured), holidays, crosses and the manual Call/Put/Close."""

import datetime as dt
from decimal import Decimal

import pytest

from station.domain.enums import OptionRight, Side
from station.domain.marketdata import Bar
from station.engine.calendar import CalendarError, TradingCalendars
from station.engine.options import atm_strike, expiry_today, osi_symbol
from station.engine.strategies.zero_dte import ZeroDte, ZeroDteRefused

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def calendars():
    return TradingCalendars()


def et(y, m, d, hh, mm):
    from zoneinfo import ZoneInfo

    return dt.datetime(y, m, d, hh, mm, tzinfo=ZoneInfo("America/New_York"))


PARAMS = {"timeframe": "1m", "signal_symbol": "MES", "underlying": "SPX", "close_before_min": 15, "qty": 2,
          "line1": {"type": "sma", "period": 1}, "line2": {"type": "sma", "period": 3}}


def strategy(calendars, **overrides):
    return ZeroDte("Zero", "SPXW", {**PARAMS, **overrides}, calendars=calendars)


def feed(s, start, closes, spx=None):
    """MES bars (and SPX bars 10 points apart) one minute apart from `start`; all signals."""
    out = []
    for i, close in enumerate(closes):
        at = start + dt.timedelta(minutes=i)
        if spx is not False:
            out += s.on_bar(Bar("SPX", "1m", at, close + 10, close + 10.5, close + 9.5, close + 10))
        out += s.on_bar(Bar("MES", "1m", at, close, close + 0.5, close - 0.5, close))
    return out


@pytest.mark.parametrize("price,step,strike", [
    (4752.4, 5, "4750"), (4752.5, 5, "4755"), (4747.6, 5, "4750"), (4747.49, 5, "4745"),
    (5001.2, 1, "5001"), (99.74, "0.5", "99.5"), (99.75, "0.5", "100"),
])
def test_atm_strike(price, step, strike):
    assert atm_strike(price, step) == Decimal(strike)


def test_expiry_is_today_in_new_york_even_after_midnight_utc():
    assert expiry_today(dt.datetime(2024, 1, 5, 2, 0, tzinfo=UTC)) == dt.date(2024, 1, 4)  # 21:00 ET on the 4th
    assert expiry_today(dt.datetime(2024, 1, 5, 5, 0, tzinfo=UTC)) == dt.date(2024, 1, 5)  # midnight ET
    assert expiry_today(dt.datetime(2024, 7, 2, 3, 59, tzinfo=UTC)) == dt.date(2024, 7, 1)  # EDT: -4 h
    assert osi_symbol("SPXW", dt.date(2024, 1, 4), OptionRight.CALL, Decimal("4750")) == "SPXW  240104C04750000"
    assert osi_symbol("SPXW", dt.date(2024, 1, 4), OptionRight.PUT, Decimal("4752.5")) == "SPXW  240104P04752500"


def test_auto_close_time_normal_early_close_and_holiday(calendars):
    s = strategy(calendars)
    assert s.auto_close_time(dt.date(2024, 1, 4)) == et(2024, 1, 4, 15, 45)
    assert s.auto_close_time(dt.date(2024, 11, 29)) == et(2024, 11, 29, 12, 45)  # day after Thanksgiving: 13:00 close
    assert s.auto_close_time(dt.date(2024, 7, 3)) == et(2024, 7, 3, 12, 45)
    assert s.auto_close_time(dt.date(2024, 7, 4)) is None  # Independence Day
    assert s.auto_close_time(dt.date(2024, 1, 6)) is None  # Saturday
    assert strategy(calendars, close_before_min=30).auto_close_time(dt.date(2024, 1, 4)) == et(2024, 1, 4, 15, 30)
    assert calendars.early_close("XNYS", dt.date(2024, 11, 29)) and not calendars.early_close("XNYS", dt.date(2024, 1, 4))
    with pytest.raises(CalendarError):
        calendars.session("XNYS", dt.date(2090, 1, 3))


def test_crosses_hold_one_option_at_a_time_and_close_before_the_end(calendars):
    s = strategy(calendars)
    # close vs its 3-bar SMA: cross above at bar 4, below at bar 7
    signals = feed(s, et(2024, 1, 4, 10, 0), [4740, 4739, 4738, 4737, 4738, 4739, 4740, 4739, 4738, 4737])
    got = [(s_.action, s_.instrument["osi"], s_.target_position) for s_ in signals]
    assert got == [
        (Side.BUY, "SPXW  240104C04750000", "long"),   # strike from SPX (4738 + 10 = 4748 → 4750)
        (Side.SELL, "SPXW  240104C04750000", "flat"),
        (Side.BUY, "SPXW  240104P04750000", "long"),   # SPX 4749 → 4750
    ]
    assert all(x.ticker == "SPXW" and x.qty == 2 and x.price is None for x in signals)
    alert = signals[0].to_alert(et(2024, 1, 4, 10, 5))
    assert alert.source == "strategy" and alert.trade_id == signals[0].signal_id
    assert alert.extra["instrument"]["expiry"] == "2024-01-04" and alert.extra["instrument"]["multiplier"] == 100
    # nothing before 15:45; at 15:45 ET the put is sold, once
    assert s.on_clock(et(2024, 1, 4, 15, 44)) == []
    closing = s.on_clock(et(2024, 1, 4, 15, 45))
    assert [(x.action, x.instrument["right"], x.reason.split(":")[0]) for x in closing] == [
        (Side.SELL, "put", "auto close before the session's end")]
    assert closing[0].signal_id == "Zero:SPXW:autoclose:20240104:XP"
    assert s.on_clock(et(2024, 1, 4, 15, 46)) == [] and s.contract is None
    # a cross after the auto-close time is not traded
    assert feed(s, et(2024, 1, 4, 15, 50), [4740, 4739, 4738, 4737, 4738]) == []


def test_early_close_day_closes_at_12_45_et_from_bars_too(calendars):
    s = strategy(calendars)
    signals = feed(s, et(2024, 11, 29, 12, 30), [5990, 5989, 5988, 5987, 5988])
    assert [x.action for x in signals] == [Side.BUY] and s.contract["expiry"] == "2024-11-29"
    closing = feed(s, et(2024, 11, 29, 12, 45), [5990])  # the bar opening at 12:45 closes it
    assert [(x.action, x.target_position) for x in closing] == [(Side.SELL, "flat")]


def test_holiday_and_after_midnight_utc_bars_trade_nothing(calendars):
    s = strategy(calendars)
    assert feed(s, et(2024, 7, 4, 10, 0), [5500, 5499, 5498, 5497, 5498]) == []
    # 00:30 UTC on Jan 5 is 19:30 ET on Jan 4: after the close of the 4th
    assert feed(strategy(calendars), dt.datetime(2024, 1, 5, 0, 30, tzinfo=UTC), [4740, 4739, 4738, 4737, 4738]) == []


def test_strike_from_the_proxy_plus_basis_without_an_index_feed(calendars):
    s = strategy(calendars, underlying=None, basis=-12.0)
    signals = feed(s, et(2024, 1, 4, 10, 0), [4760, 4759, 4758, 4757, 4758], spx=False)
    assert signals[0].instrument["strike"] == "4745"  # 4758 - 12 = 4746 → 4745
    assert s.subscriptions() == [("MES", "1m")]


def test_manual_call_put_close_override(calendars):
    s = strategy(calendars)
    s.on_price("SPX", 4751.0)
    now = et(2024, 1, 4, 11, 0)
    call = s.manual(OptionRight.CALL, "click-1", now)
    assert [(x.action, x.instrument["osi"], x.signal_id) for x in call] == [
        (Side.BUY, "SPXW  240104C04750000", "Zero:SPXW:manual:click-1:C")]
    assert s.manual(OptionRight.CALL, "click-2", now) == []  # already holding the call
    put = s.manual(OptionRight.PUT, "click-3", now)
    assert [(x.action, x.instrument["right"]) for x in put] == [(Side.SELL, "call"), (Side.BUY, "put")]
    assert len({x.signal_id for x in call + put}) == 3
    close = s.manual(None, "click-4", now)
    assert [(x.action, x.instrument["right"], x.target_position) for x in close] == [(Side.SELL, "put", "flat")]
    with pytest.raises(ZeroDteRefused, match="no option is held"):
        s.manual(None, "click-5", now)
    with pytest.raises(ZeroDteRefused, match="holiday"):
        s.manual(OptionRight.CALL, "click-6", et(2024, 7, 4, 11, 0))
    with pytest.raises(ZeroDteRefused, match="auto-close time 15:45 ET"):
        s.manual(OptionRight.PUT, "click-7", et(2024, 1, 4, 15, 50))
    fresh = strategy(calendars)
    with pytest.raises(ZeroDteRefused, match="no price of SPX"):
        fresh.manual(OptionRight.CALL, "click-8", now)


def test_an_option_left_from_an_earlier_day_is_forgotten(calendars):
    s = strategy(calendars)
    s.on_price("SPX", 4751.0)
    s.manual(OptionRight.CALL, "c", et(2024, 1, 4, 11, 0))
    state = s.state()
    restored = strategy(calendars)
    restored.restore(state)
    assert restored.contract["osi"] == "SPXW  240104C04750000" and restored.position == 1
    assert restored.on_clock(et(2024, 1, 5, 9, 0)) == [] and restored.contract is None
