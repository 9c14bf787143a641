"""Round trips and the summary figures against values worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from station.analysis.metrics import equity_curve, round_trips, summarize, summary_by


def fills(*rows, strategy="S", point_value=50.0) -> pd.DataFrame:
    """(time, ticker, side, qty, price[, commission]) rows; times are ET wall clock on 2024-03-04 (a Monday)."""
    frame = pd.DataFrame([(r + (0.0,))[:6] for r in rows], columns=["time", "ticker", "side", "qty", "price", "commission"])
    frame["time"] = pd.to_datetime(frame["time"]).dt.tz_localize("America/New_York").dt.tz_convert("UTC")
    frame["strategy"], frame["point_value"] = strategy, point_value
    return frame


def test_flat_to_flat_trips_with_averages_scaling_and_commission():
    trips = round_trips(fills(
        ("2024-03-04 10:00", "ES", "buy", 1, 5000.00, 2.5),
        ("2024-03-04 10:05", "ES", "buy", 1, 5002.00, 2.5),   # scale in: avg entry 5001
        ("2024-03-04 10:10", "ES", "sell", 2, 5005.00, 5.0),  # flat: +4 points x 2 x 50 - 10
    ))
    [trip] = trips.to_dict("records")
    assert (trip["side"], trip["qty"], trip["entry_price"], trip["exit_price"]) == ("long", 2, 5001, 5005)
    assert trip["pnl_points"] == 4 and trip["pnl"] == 4 * 2 * 50 - 10 and trip["commission"] == 10


def test_a_reversing_fill_closes_one_trip_and_opens_the_next():
    trips = round_trips(fills(
        ("2024-03-04 10:00", "ES", "buy", 1, 5000.0, 1.0),
        ("2024-03-04 10:10", "ES", "sell", 2, 4990.0, 2.0),  # long 1 closed at 4990, short 1 opened at 4990
        ("2024-03-04 10:20", "ES", "buy", 1, 4980.0, 1.0),
    ))
    assert list(trips["side"]) == ["long", "short"]
    assert list(trips["pnl"]) == [-10 * 50 - 2.0, 10 * 50 - 2.0]  # each half of the reversing fill's commission


def test_points_become_money_by_each_instrument_own_point_value():
    es = fills(("2024-03-04 10:00", "ES", "buy", 1, 5000.0), ("2024-03-04 10:30", "ES", "sell", 1, 5001.0))
    nq = fills(("2024-03-04 10:00", "NQ", "sell", 1, 18000.0), ("2024-03-04 10:30", "NQ", "buy", 1, 18002.0),
               point_value=20.0)
    trips = round_trips(pd.concat([es, nq]))
    assert sorted(trips["pnl"]) == [-40.0, 50.0]
    by_ticker = summary_by(trips, "ticker").set_index("ticker")
    assert by_ticker.loc["ES", "net_pnl"] == 50 and by_ticker.loc["NQ", "net_pnl"] == -40


def test_summary_figures_by_hand():
    trips = round_trips(fills(
        ("2024-03-04 10:00", "ES", "buy", 1, 5000.0), ("2024-03-04 10:30", "ES", "sell", 1, 5004.0),   # +200
        ("2024-03-05 10:00", "ES", "buy", 1, 5000.0), ("2024-03-05 10:30", "ES", "sell", 1, 4998.0),   # -100
        ("2024-03-07 10:00", "ES", "sell", 1, 5000.0), ("2024-03-07 11:00", "ES", "buy", 1, 4994.0),   # +300
        ("2024-03-08 10:00", "ES", "buy", 1, 5000.0), ("2024-03-08 10:15", "ES", "sell", 1, 4996.0),   # -200
    ))
    s = summarize(trips)
    assert (s["trades"], s["net_pnl"], s["gross_profit"], s["gross_loss"]) == (4, 200, 500, -300)
    assert s["win_rate"] == 0.5 and s["avg_win"] == 250 and s["avg_loss"] == -150
    assert s["profit_factor"] == pytest.approx(500 / 300) and s["expectancy"] == 50
    # equity 200, 100, 400, 200: the worst fall from a peak is 400 -> 200
    assert s["max_drawdown"] == 200 and s["max_drawdown_pct"] == pytest.approx(50.0)
    daily = [200, -100, 0, 300, -200]  # Mon..Fri, Wednesday without a trade
    mean = sum(daily) / 5
    std = math.sqrt(sum((d - mean) ** 2 for d in daily) / 4)
    downside = math.sqrt(sum(min(d, 0) ** 2 for d in daily) / 5)
    assert s["sharpe"] == pytest.approx(mean / std * math.sqrt(252))
    assert s["sortino"] == pytest.approx(mean / downside * math.sqrt(252))
    span = (pd.Timestamp("2024-03-08 10:15") - pd.Timestamp("2024-03-04 10:00")).total_seconds()
    assert s["exposure"] == pytest.approx((30 + 30 + 60 + 15) * 60 / span)
    curve = equity_curve(trips)
    assert list(curve["equity"]) == [200, 100, 400, 200] and list(curve["drawdown"]) == [0, -100, 0, -200]


def test_no_trades_and_no_losses_leave_undefined_figures_empty():
    empty = summarize(round_trips(fills()))
    assert empty["trades"] == 0 and empty["net_pnl"] == 0 and empty["win_rate"] is None and empty["sharpe"] is None
    one = summarize(round_trips(fills(("2024-03-04 10:00", "ES", "buy", 1, 5000.0),
                                      ("2024-03-04 10:30", "ES", "sell", 1, 5004.0))))
    assert one["profit_factor"] is None and one["max_drawdown"] == 0 and one["win_rate"] == 1
    assert f"{one['max_drawdown']:.2f}" == "0.00"  # not "-0.00"


def test_an_open_position_at_the_end_is_not_a_trip():
    trips = round_trips(fills(("2024-03-04 10:00", "ES", "buy", 1, 5000.0), ("2024-03-04 10:30", "ES", "sell", 1, 5004.0),
                              ("2024-03-04 11:00", "ES", "buy", 1, 5003.0)))
    assert len(trips) == 1
