"""Bar builders against hand-computed bars: session boundaries, daylight saving, tick bars, batching."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from station.marketdata.bars.builders import BarArrays, make_builder
from station.marketdata.bars.grid import SessionGrid
from station.marketdata.bars.sessions import (
    CME_GLOBEX,
    US_EQUITY,
    TradingSession,
    session_for,
    symbol_root,
)
from station.marketdata.bars.timeframes import TimeframeError, parse_timeframe

UTC = timezone.utc


def ns(*args) -> int:
    """UTC nanoseconds of datetime(*args) in UTC."""
    return int(datetime(*args, tzinfo=UTC).timestamp()) * 10**9


def builder(tf: str, session=CME_GLOBEX):
    timeframe = parse_timeframe(tf)
    return make_builder("ES", timeframe, SessionGrid(session, timeframe))


def feed(b, trades):
    ts = np.array([t for t, _, _ in trades], dtype=np.int64)
    px = np.array([p for _, p, _ in trades], dtype=float)
    sz = np.array([s for _, _, s in trades], dtype=float)
    return b.update(ts, px, sz)


def rows(bars: BarArrays):
    return [(int(s), o, h, lo, c, v) for s, o, h, lo, c, v in zip(*bars)]


def test_one_minute_bars_close_when_the_next_minute_trades():
    b = builder("1m")
    closed = feed(b, [(ns(2025, 3, 5, 14, 30, 0), 100, 1), (ns(2025, 3, 5, 14, 30, 30), 102, 2),
                      (ns(2025, 3, 5, 14, 30, 59) + 999_000_000, 99, 1)])
    assert len(closed.start) == 0
    f = b.forming
    assert (f.start, f.open, f.high, f.low, f.close, f.volume, f.count) == (ns(2025, 3, 5, 14, 30), 100, 102, 99, 99, 4, 3)
    closed = feed(b, [(ns(2025, 3, 5, 14, 31, 0), 101, 5), (ns(2025, 3, 5, 14, 33, 10), 103, 1)])
    assert rows(closed) == [(ns(2025, 3, 5, 14, 30), 100, 102, 99, 99, 4), (ns(2025, 3, 5, 14, 31), 101, 101, 101, 101, 5)]
    assert (b.forming.start, b.forming.end) == (ns(2025, 3, 5, 14, 33), ns(2025, 3, 5, 14, 34))


def test_the_same_trades_make_the_same_bars_whatever_the_batching():
    rng = np.random.default_rng(7)
    ts = np.sort(ns(2025, 3, 5, 14, 0) + rng.integers(0, 3 * 3600 * 10**9, 5000)).astype(np.int64)
    px = 5800 + np.cumsum(rng.choice([-0.25, 0, 0.25], 5000))
    sz = rng.integers(1, 10, 5000).astype(float)
    for tf in ("1m", "5m", "1h", "512t", "7t"):
        whole = builder(tf)
        all_at_once = rows(whole.update(ts, px, sz))
        pieces = builder(tf)
        parts = []
        for lo in range(0, 5000, 333):
            parts += rows(pieces.update(ts[lo:lo + 333], px[lo:lo + 333], sz[lo:lo + 333]))
        assert parts == all_at_once, tf
        assert pieces.forming == whole.forming, tf


def test_batches_inside_one_bar_fold_as_one_batch_would():
    """Small batches (most live batches, every backtest slice) take the one-slot path; the bars are the same, across
    a session break, late-stamped trades and a daily session too."""
    rng = np.random.default_rng(11)
    start = ns(2025, 3, 5, 20, 0)  # the CME break (21:00-22:00 UTC) is inside the span
    ts = np.sort(start + rng.integers(0, 4 * 3600 * 10**9, 6000)).astype(np.int64)
    ts[rng.integers(1, 6000, 40)] -= 90 * 10**9  # late stamps, some of them in an earlier bar
    px = 5800 + np.cumsum(rng.choice([-0.25, 0, 0.25], 6000))
    sz = rng.integers(1, 10, 6000).astype(float)
    cuts = np.unique(np.concatenate(([0, 6000], rng.integers(1, 6000, 2500))))
    for tf in ("1m", "5m", "1h", "1d"):
        whole = builder(tf)
        all_at_once = rows(whole.update(ts, px, sz))
        pieces = builder(tf)
        parts = []
        for lo, hi in zip(cuts[:-1], cuts[1:]):
            parts += rows(pieces.update(ts[lo:hi], px[lo:hi], sz[lo:hi]))
        assert parts == all_at_once, tf
        assert pieces.forming == whole.forming, tf
        assert pieces.last_ts == whole.last_ts, tf


def test_a_late_stamped_trade_joins_the_current_bar_never_a_closed_one():
    b = builder("1m")
    feed(b, [(ns(2025, 3, 5, 14, 30, 10), 100, 1), (ns(2025, 3, 5, 14, 31, 5), 101, 1)])
    closed = feed(b, [(ns(2025, 3, 5, 14, 30, 50), 90, 1)])  # stamped in the closed minute
    assert len(closed.start) == 0
    assert (b.forming.start, b.forming.low, b.forming.volume) == (ns(2025, 3, 5, 14, 31), 90, 2)


def test_cme_session_break_and_reopen():
    b = builder("1m")
    closed = feed(b, [
        (ns(2025, 3, 5, 21, 59, 30), 100, 1),  # 16:59:30 EST, the session's last minute
        (ns(2025, 3, 5, 22, 10), 200, 1),  # 17:10 EST: the daily break, no bar
        (ns(2025, 3, 5, 23, 0, 5), 101, 2),  # 18:00:05 EST: the next session
    ])
    assert rows(closed) == [(ns(2025, 3, 5, 21, 59), 100, 100, 100, 100, 1)]
    assert b.forming.start == ns(2025, 3, 5, 23, 0)


def test_four_hour_and_daily_bars_follow_the_cme_session():
    four = builder("4h")
    feed(four, [(ns(2025, 3, 5, 20, 30), 10, 1)])  # 15:30 EST: the 14:00-17:00 slot (cut at the close)
    assert (four.forming.start, four.forming.end) == (ns(2025, 3, 5, 19), ns(2025, 3, 5, 22))
    feed(four, [(ns(2025, 3, 6, 3, 30), 11, 1)])  # 22:30 EST: 18:00 + 4h = 22:00 slot
    assert four.forming.start == ns(2025, 3, 6, 3)
    day = builder("1d")
    closed = feed(day, [(ns(2025, 3, 5, 20), 10, 1), (ns(2025, 3, 5, 23, 30), 12, 3)])
    # the Wednesday session opened Tuesday 18:00 EST; Thursday's opens Wednesday 18:00 EST
    assert rows(closed) == [(ns(2025, 3, 4, 23), 10, 10, 10, 10, 1)]
    assert (day.forming.start, day.forming.end) == (ns(2025, 3, 5, 23), ns(2025, 3, 6, 22))


def test_hourly_bars_move_in_utc_when_daylight_saving_starts():
    b = builder("1h")
    feed(b, [(ns(2025, 3, 6, 23, 30), 1, 1)])  # Thu 18:30 EST: the session opened 23:00 UTC
    assert b.forming.start == ns(2025, 3, 6, 23)
    feed(b, [(ns(2025, 3, 9, 22, 30), 2, 1)])  # Sun 18:30 EDT: the session opened 22:00 UTC
    assert b.forming.start == ns(2025, 3, 9, 22)
    closed = feed(b, [(ns(2025, 3, 10, 20, 59), 3, 1)])  # Mon 16:59 EDT, the last hour
    assert b.forming.start == ns(2025, 3, 10, 20) and b.forming.end == ns(2025, 3, 10, 21)
    assert rows(closed)[-1][0] == ns(2025, 3, 9, 22)


NY_DAY = TradingSession("ny-day", "America/New_York", timedelta(0), timedelta(hours=24), frozenset(range(7)))


def starts(tf, trades, session=NY_DAY):
    b = builder(tf, session)
    closed = feed(b, trades)
    return [int(s) for s in closed.start] + [b.forming.start]


def test_a_wall_clock_session_on_the_spring_forward_day():
    day = [(ns(2025, 3, 9, h, 30), 1, 1) for h in range(5, 11)]  # 00:30 EST … 06:30 EDT
    # 1h bars: 00:00 and 01:00 EST, then 03:00 EDT (02:00 never happened)
    assert starts("1h", day)[:3] == [ns(2025, 3, 9, 5), ns(2025, 3, 9, 6), ns(2025, 3, 9, 7)]
    # 4h bars from local midnight: 00:00-04:00 lasts three hours, 04:00 EDT is 08:00 UTC
    assert starts("4h", day) == [ns(2025, 3, 9, 5), ns(2025, 3, 9, 8)]
    b = builder("1d", NY_DAY)
    feed(b, day)
    assert b.forming.end - b.forming.start == 23 * 3600 * 10**9


def test_a_wall_clock_session_on_the_fall_back_day():
    day = [(ns(2025, 11, 2, h, 30), 1, 1) for h in range(4, 9)]  # 00:30 EDT, 01:30 EDT, 01:30 EST, 02:30, 03:30 EST
    # the repeated 01:00 hour gets a bar of its own each time
    assert starts("1h", day) == [ns(2025, 11, 2, h) for h in range(4, 9)]
    assert starts("4h", day) == [ns(2025, 11, 2, 4)]  # 00:00-04:00 local lasts five hours
    b = builder("4h", NY_DAY)
    feed(b, day)
    assert b.forming.end == ns(2025, 11, 2, 9)
    d = builder("1d", NY_DAY)
    feed(d, day)
    assert d.forming.end - d.forming.start == 25 * 3600 * 10**9


def test_us_equity_hourly_bars_start_at_the_open_and_cut_at_the_close():
    b = builder("1h", US_EQUITY)
    closed = feed(b, [(ns(2025, 6, 2, 13, 20), 1, 1),  # 09:20 EDT: before the open, no bar
                      (ns(2025, 6, 2, 13, 45), 2, 1), (ns(2025, 6, 2, 19, 50), 3, 1)])
    assert rows(closed) == [(ns(2025, 6, 2, 13, 30), 2, 2, 2, 2, 1)]
    assert (b.forming.start, b.forming.end) == (ns(2025, 6, 2, 19, 30), ns(2025, 6, 2, 20))


def test_tick_bars_close_at_the_nth_trade_and_restart_each_session():
    b = builder("3t")
    t0 = ns(2025, 3, 5, 14, 30)
    closed = feed(b, [(t0 + i * 10**9, 100 + i, 1) for i in range(5)])
    assert rows(closed) == [(t0, 100, 102, 100, 102, 3)]
    assert (b.forming.start, b.forming.count, b.forming.close) == (t0 + 3 * 10**9, 2, 104)
    closed = feed(b, [(t0 + 5 * 10**9, 99, 4)])  # the third trade completes the bar at once
    assert rows(closed) == [(t0 + 3 * 10**9, 103, 104, 99, 99, 6)] and b.forming is None
    feed(b, [(ns(2025, 3, 5, 21, 59), 50, 1)])
    closed = b.close_due(ns(2025, 3, 5, 22))  # the session closed with a partial bar
    assert rows(closed) == [(ns(2025, 3, 5, 21, 59), 50, 50, 50, 50, 1)]
    feed(b, [(ns(2025, 3, 5, 23, 1), 60, 1), (ns(2025, 3, 5, 23, 2), 61, 1)])
    assert b.forming.count == 2 and b.forming.start == ns(2025, 3, 5, 23, 1)


def test_time_bars_close_by_the_clock_without_a_new_trade():
    b = builder("1m")
    feed(b, [(ns(2025, 3, 5, 14, 30, 10), 100, 1)])
    assert len(b.close_due(ns(2025, 3, 5, 14, 30, 59)).start) == 0
    assert rows(b.close_due(ns(2025, 3, 5, 14, 31))) == [(ns(2025, 3, 5, 14, 30), 100, 100, 100, 100, 1)]
    closed = feed(b, [(ns(2025, 3, 5, 14, 30, 40), 101, 1)])  # late, after the close: the next minute
    assert len(closed.start) == 0 and b.forming.start == ns(2025, 3, 5, 14, 31)


@pytest.mark.parametrize("text,expected", [("1s", 1), ("5m", 300), ("4h", 14400), ("1M", 60)])
def test_timeframes_parse(text, expected):
    assert parse_timeframe(text).seconds == expected


@pytest.mark.parametrize("text", ["", "0m", "2d", "25h", "m5", "5x", "2000000t"])
def test_bad_timeframes_say_why(text):
    with pytest.raises(TimeframeError):
        parse_timeframe(text)


def test_symbols_find_their_session():
    assert [symbol_root(s) for s in ("ES", "ESH5", "ES.c.0", "MES.FUT", "AAPL", "NVDA")] == ["ES", "ES", "ES", "MES", "AAPL", "NVDA"]
    assert session_for("NQM5") is CME_GLOBEX and session_for("AAPL") is US_EQUITY
    assert session_for("AAPL", {"AAPL": "24x7"}).name == "24x7"
    with pytest.raises(ValueError, match="unknown session"):
        session_for("AAPL", {"AAPL": "lunar"})
