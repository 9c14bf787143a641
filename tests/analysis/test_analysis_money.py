"""`station analyze` in money by one instrument table, with the round-trip figures a backtest reports: a bare `ES`
is the future (0.25 slippage is one tick), ES and NQ never add up as points, a `point_value` set after the trade
counts. A subprocess on a real data folder whose orders were recorded with no point value (1)."""

from __future__ import annotations

import csv

from support.analysis import add_alert, add_fill, add_order
from support.launch import run_cli
from station.store import Store
from station.store.config_repo import ConfigRepository


def trades(conn) -> None:
    """ES: long 1 at 5000, out at 5004 (+4 points). NQ: short 2 at 18000, covered at 18010 (−10 points each).
    Orders were recorded with point value 1 (none was set then); $2 commission per fill."""
    a = add_alert(conn, ticker="ES", price="4999.75", strategy="S1")
    add_order(conn, "es-in", alert_id=a, ticker="ES", point_value="1")
    add_fill(conn, "es-in", qty="1", price="5000", ms=10, ticker="ES", commission="2", pnl="-2")
    b = add_alert(conn, ticker="ES", action="sell", price="5004", strategy="S1", received=1000, committed=1001,
                  routed=1002)
    add_order(conn, "es-out", alert_id=b, ticker="ES", side="sell", point_value="1", created=1002)
    add_fill(conn, "es-out", side="sell", qty="1", price="5004", ms=1010, ticker="ES", commission="2", pnl="2")
    c = add_alert(conn, ticker="NQ", action="sell", qty="2", price="18000", strategy="S1", received=2000,
                  committed=2001, routed=2002)
    add_order(conn, "nq-in", alert_id=c, ticker="NQ", side="sell", qty="2", filled="2", point_value="1", created=2002)
    add_fill(conn, "nq-in", side="sell", qty="2", price="18000", ms=2010, ticker="NQ", commission="4", pnl="-4")
    d = add_alert(conn, ticker="NQ", qty="2", price="18010", strategy="S1", received=3000, committed=3001, routed=3002)
    add_order(conn, "nq-out", alert_id=d, ticker="NQ", qty="2", filled="2", point_value="1", created=3002)
    add_fill(conn, "nq-out", qty="2", price="18010", ms=3010, ticker="NQ", commission="4", pnl="-24")


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_analyze_reports_round_trips_in_money_by_the_instrument_table_and_a_later_point_value(tmp_path):
    data = tmp_path / "data"
    store = Store(data)
    store.writer.call(trades)
    # NQ's point value is set only now, after the trades: it counts; ES has none set: the table's $50
    ConfigRepository(store).import_document({"strategies": {"S1": {"tickers": {"ES": {}, "NQ": {"point_value": 20}}}}})
    store.close()
    result = run_cli("analyze", "--data-dir", str(data), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr

    trips = {t["ticker"]: t for t in rows(tmp_path / "out" / "round_trips.csv")}
    assert float(trips["ES"]["pnl"]) == 4 * 50 - 4  # not 4 points − 4
    assert float(trips["NQ"]["pnl"]) == -10 * 2 * 20 - 8
    assert "Round trips: 2, net -212.00; win rate 50.0%, profit factor 0.48, max drawdown 408.00" in result.stdout
    fills = {f["client_order_id"]: f for f in rows(tmp_path / "out" / "fills.csv")}
    assert float(fills["es-in"]["slippage_ticks"]) == 1  # 0.25 over the alert: one ES tick, not 25 cents
    assert float(fills["es-in"]["tick_size"]) == 0.25 and float(fills["es-in"]["point_value"]) == 50
    assert float(fills["es-out"]["realized_pnl"]) == 4 * 50 - 2  # the book's points, now in money
    assert float(fills["nq-out"]["realized_pnl"]) == -10 * 2 * 20 - 4
    by_ticker = {r["ticker"]: r for r in rows(tmp_path / "out" / "summary_by_ticker.csv")}
    assert float(by_ticker["ES"]["realized_pnl"]) == 196 and float(by_ticker["NQ"]["realized_pnl"]) == -408
    assert "Round trips" in (tmp_path / "out" / "report.html").read_text()
