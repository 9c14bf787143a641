"""Strategies on a session of bars (real DBN trades → pandas bars) give exactly the signals of a
vectorised pandas reference; crafted series with known crosses, flips, stops and targets."""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from support.engine_bars import read_trades, tick_bars, time_bars, to_bars, write_trades_dbn
from support.engine_reference import crossover_expected, pairs_expected, supertrend_reversal_expected
from station.domain.enums import Side
from station.domain.events import PairUpdated
from station.domain.marketdata import Bar
from station.engine.strategies.crossover import Crossover
from station.engine.strategies.pairs import Pairs, parse_spread
from station.engine.strategies.supertrend import SupertrendReversal

UTC = dt.timezone.utc
SESSION = dt.datetime(2025, 3, 3, 14, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def trades(tmp_path_factory):
    path = write_trades_dbn(tmp_path_factory.mktemp("dbn") / "session.trades.dbn",
                            {"ESH5": 5800.0, "NQH5": 20500.0}, 60_000, SESSION, 6.5 * 3600, seed=5)
    return read_trades(path)


def frames(trades, symbol):
    one = trades[trades["symbol"] == symbol]
    return {"1m": time_bars(one, "1min"), "512t": tick_bars(one, 512), "5s": time_bars(one, "5s")}


def run(strategy, bars):
    signals = []
    for bar in bars:
        signals += strategy.on_bar(bar)
    return signals


def as_tuples(signals):
    return [(pd.Timestamp(s.bar_time), str(s.action), s.target_position) for s in signals]


def expected_times(expected):
    return [(ts.floor("us"), action, target) for ts, action, target in expected]


@pytest.mark.parametrize("timeframe", ["1m", "512t", "5s"])
@pytest.mark.parametrize("line1,line2", [(("ema", 9), ("sma", 21)), (("wilder", 5), ("ema", 13)), (("sma", 3), ("sma", 8))])
def test_crossover_parity_with_pandas(trades, timeframe, line1, line2):
    frame = frames(trades, "ESH5")[timeframe]
    params = {"timeframe": timeframe, "line1": {"type": line1[0], "period": line1[1]},
              "line2": {"type": line2[0], "period": line2[1]}, "qty": 2}
    signals = run(Crossover("X", "ESH5", params), to_bars(frame, "ESH5", timeframe))
    expected = expected_times(crossover_expected(frame, line1, line2))
    assert len(expected) >= 4
    assert as_tuples(signals) == expected
    assert all(s.qty == Decimal(2) for s in signals)
    assert len({s.signal_id for s in signals}) == len(signals)


@pytest.mark.parametrize("timeframe", ["1m", "5s"])
@pytest.mark.parametrize("period,multiplier,confirm,trail,tp", [(10, 3.0, 3, 3.0, None), (7, 2.0, 2, 1.5, 2.0), (14, 1.5, 1, 2.5, 4.0)])
def test_supertrend_reversal_parity_with_reference(trades, timeframe, period, multiplier, confirm, trail, tp):
    frame = frames(trades, "NQH5")[timeframe]
    params = {"timeframe": timeframe, "atr_period": period, "multiplier": multiplier, "confirm_bars": confirm,
              "trail_atr": trail, "take_profit_atr": tp}
    signals = run(SupertrendReversal("ST", "NQH5", params), to_bars(frame, "NQH5", timeframe))
    expected = expected_times(supertrend_reversal_expected(frame, period, multiplier, confirm, trail, tp))
    assert len(expected) >= 4
    assert as_tuples(signals) == expected


@pytest.mark.parametrize("lookback,entry,exit_", [(20, 2.0, 0.5), (30, 1.5, 0.0)])
def test_pairs_parity_with_pandas(trades, lookback, entry, exit_):
    es, nq = frames(trades, "ESH5")["1m"], frames(trades, "NQH5")["1m"]
    hedge = 0.28
    strategy = Pairs("P", f"ESH5-{hedge}*NQH5", {"timeframe": "1m", "lookback": lookback, "entry_z": entry,
                                                  "exit_z": exit_, "qty": 3})
    bars = sorted(to_bars(es, "ESH5", "1m") + to_bars(nq, "NQH5", "1m"), key=lambda b: (b.start, b.symbol))
    signals = run(strategy, bars)
    expected, reference = pairs_expected(es, nq, hedge, lookback, entry, exit_)
    assert len(expected) >= 4
    assert as_tuples(signals) == expected_times(expected)
    assert {s.ticker for s in signals} == {f"ESH5-{hedge}*NQH5"}
    assert all(s.spread.ticker1 == "ESH5" and s.spread.ticker2 == "NQH5" for s in signals)
    updates = [e for e in strategy.events if isinstance(e, PairUpdated)]
    last = reference.dropna().iloc[-1]
    assert updates[-1].spread == pytest.approx(last["spread"], abs=1e-9)
    assert updates[-1].mean == pytest.approx(last["mean"], abs=1e-9)
    assert updates[-1].std == pytest.approx(last["std"], abs=1e-9)
    assert updates[-1].distance == pytest.approx(last["z"], abs=1e-6)


# ---- crafted series ------------------------------------------------------------------------------


def bars_from(closes, start=SESSION, lows=None, highs=None, opens=None):
    out = []
    for i, close in enumerate(closes):
        low = lows[i] if lows and lows[i] is not None else close - 0.1
        high = highs[i] if highs and highs[i] is not None else close + 0.1
        open_ = opens[i] if opens else close
        out.append(Bar("MES", "1m", start + dt.timedelta(minutes=i), open_, max(high, open_, close), min(low, open_, close), close))
    return out


CLOSE_VS_SMA3 = {"timeframe": "1m", "line1": {"type": "sma", "period": 1}, "line2": {"type": "sma", "period": 3}}


def test_crossover_known_crosses_on_a_crafted_series():
    # close vs its 3-bar SMA: below at bars 2-3, above from bar 4 (8 > 7.67), below again at bar 7 (9 < 9.33)
    closes = [10, 9, 8, 7, 8, 9, 10, 9, 8, 7]
    signals = run(Crossover("X", "MES", CLOSE_VS_SMA3), bars_from(closes))
    got = [(s.bar_time.minute - 30, s.action, s.position, s.target_position, s.reason) for s in signals]
    assert got == [
        (4, Side.BUY, "flat", "long", "cross above"),
        (7, Side.SELL, "long", "flat", "cross below"),
        (7, Side.SELL, "flat", "short", "cross below"),
    ]
    assert signals[0].price == 8 and signals[0].signal_id == "X:MES:1m:20250303T143400:L"


def test_crossover_stop_exits_and_waits_for_the_next_cross():
    closes = [10, 9, 8, 7, 8, 9, 10, 9, 8, 7]
    lows = [None] * 5 + [7.4] + [None] * 4  # bar 5 dips to 7.4 under the 7.5 stop of the entry at 8
    params = {**CLOSE_VS_SMA3, "stop_points": 0.5}
    signals = run(Crossover("X", "MES", params), bars_from(closes, lows=lows))
    got = [(s.bar_time.minute - 30, s.action, s.target_position, s.reason) for s in signals]
    assert got == [(4, Side.BUY, "long", "cross above"), (5, Side.SELL, "flat", "stop"),
                   (7, Side.SELL, "short", "cross below")]


def test_crossover_risk_sizing_and_skipped_entry(caplog):
    params = {**CLOSE_VS_SMA3, "stop_points": 2.0, "sizing": "risk", "risk_amount": 100, "point_value": 5}
    signals = run(Crossover("X", "MES", params), bars_from([10, 9, 8, 7, 8]))
    assert [s.qty for s in signals] == [Decimal(10)]  # 100 / (2 points x $5)
    params["risk_amount"] = 5
    assert run(Crossover("X", "MES", params), bars_from([10, 9, 8, 7, 8])) == []
    assert "less than one unit" in caplog.text


def test_a_bar_seen_twice_is_ignored():
    strategy = Crossover("X", "MES", CLOSE_VS_SMA3)
    bars = bars_from([10, 9, 8, 7, 8])
    assert len(run(strategy, bars)) == 1
    assert run(strategy, bars) == []


def test_supertrend_flip_confirmed_by_a_reversal_candle_then_trailing_stop():
    # a steady fall (Supertrend down), then a sharp rise: the flip bar is itself a bullish reversal candle
    falling = [100 - i for i in range(12)]
    rising = [92, 96, 100, 104, 108, 112]
    closes = falling + rising
    opens = [c + 0.5 for c in falling] + [89, 92, 96, 100, 104, 108]
    params = {"timeframe": "1m", "atr_period": 3, "multiplier": 1.0, "confirm_bars": 2, "trail_atr": 1.0}
    strategy = SupertrendReversal("ST", "MES", params)
    bars = bars_from(closes, opens=opens)
    signals = run(strategy, bars)
    assert [(s.bar_time.minute - 30, s.action, s.target_position) for s in signals] == [(12, Side.BUY, "long")]
    assert strategy.st.direction == 1 and strategy.stop is not None
    stop_before = strategy.stop
    # the trailing stop only rises; a bar whose low breaks it exits
    more = bars_from([113, 104], start=SESSION + dt.timedelta(minutes=18), opens=[112, 113], lows=[112.5, 100])
    assert run(strategy, more[:1]) == [] and strategy.stop > stop_before
    # the next bar breaks the stop and closes through the Supertrend: out, then a confirmed short
    signals = run(strategy, more[1:])
    assert [(s.action, s.target_position, s.reason) for s in signals] == [
        (Side.SELL, "flat", "trailing stop"), (Side.SELL, "short", "supertrend reversal")]


def test_supertrend_flip_without_a_reversal_candle_does_not_enter():
    falling = [100 - i for i in range(12)]
    rising = [92, 96, 100]
    opens = [c + 0.5 for c in falling] + [93, 97, 101]  # bearish candles while price rises: no confirmation
    params = {"timeframe": "1m", "atr_period": 3, "multiplier": 1.0, "confirm_bars": 2}
    strategy = SupertrendReversal("ST", "MES", params)
    assert run(strategy, bars_from(falling + rising, opens=opens)) == []
    assert strategy.pending == 0 and strategy.st.direction == 1


def test_spread_parsing():
    assert parse_spread("NMFC-0.72*NASDAQ:ROIC") == parse_spread("NMFC - 0.72 * ROIC")
    assert parse_spread("ESH5-0.28*NQH5").hedge == Decimal("0.28")
    for bad in ("AAPL", "A-B", "A-x*B", "A-0*B"):
        with pytest.raises(ValueError):
            parse_spread(bad)


def test_state_round_trip():
    strategy = Crossover("X", "MES", {**CLOSE_VS_SMA3, "stop_points": 0.5})
    run(strategy, bars_from([10, 9, 8, 7, 8]))
    state = strategy.state()
    assert state["position"] == 1 and state["open_qty"] == "1" and state["stop"] == 7.5
    fresh = Crossover("X", "MES", CLOSE_VS_SMA3)
    fresh.restore(state)
    assert (fresh.position, fresh.open_qty, fresh.stop) == (1, Decimal(1), 7.5)
    assert fresh.last_bars["MES"] == SESSION + dt.timedelta(minutes=4)
