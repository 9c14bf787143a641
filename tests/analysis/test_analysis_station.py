"""The report on data made by Station itself: alerts journaled as the webhook does, routed by the oms,
filled by the paper broker at the feed's last price; then analysed from the data folder."""

from __future__ import annotations

import csv

import pytest

from support.oms import journal, make_alert, wait_for
from station.analysis.export import run_analysis
from station.app import Options, Station
from station.domain.events import TickReceived
from station.domain.marketdata import Tick
from station.domain.timeutil import utc_now
from station.store import Store

CONFIG = {
    "destinations": {"paper": {"type": "paper"}},
    "strategies": {"Momentum": {"tickers": {
        "ES": {"point_value": 50, "destinations": {"paper": {"qty": 2}}},
        "NQ": {"point_value": 20, "destinations": {"paper": {}}},
    }}},
}


def rows(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
async def traded(data_dir, secrets):
    """A Station run: two ES fills off the feed's prices, an unrouted alert and a paper reject."""
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document(CONFIG)
    await station.start()
    ids = {}
    try:
        def order_count(status):
            return len(station.store.query("SELECT 1 FROM orders WHERE status = ?", (status,)))

        station.bus.publish(TickReceived(Tick("ES", utc_now(), 5000.5, 1)))
        ids["buy"] = (await journal(station, make_alert("ES", "buy", qty="1", price="5000.25",
                                                        strategy="Momentum"))).alert_id
        await wait_for(lambda: order_count("filled") == 1)
        station.bus.publish(TickReceived(Tick("ES", utc_now(), 5003.0, 1)))
        ids["sell"] = (await journal(station, make_alert("ES", "sell", qty="1", price="5002.5"))).alert_id
        ids["unrouted"] = (await journal(station, make_alert("CL", "buy", price="80"))).alert_id
        ids["no_price"] = (await journal(station, make_alert("NQ", "buy", qty="1", price=None))).alert_id
        await wait_for(lambda: order_count("filled") == 2 and order_count("rejected") == 1)
        await wait_for(lambda: not station.store.query("SELECT 1 FROM alerts WHERE status = 'queued'"))
    finally:
        await station.stop()
    return ids


def test_report_from_a_station_run(traded, data_dir, tmp_path):
    store = Store(data_dir)
    try:
        report = run_analysis(store, tmp_path / "report")
    finally:
        store.close()
    alerts = {int(r["alert_id"]): r for r in rows(report.out_dir / "alerts.csv")}
    buy, sell = alerts[traded["buy"]], alerts[traded["sell"]]
    # paper fills the fixed 2 ES at the feed's last price: bought 5000.5 against 5000.25 (adverse, one tick)
    assert (buy["outcome"], buy["avg_fill_price"], buy["slippage"], buy["slippage_ticks"]) == ("filled", "5000.5",
                                                                                             "0.25", "1")
    assert float(buy["slippage_cost"]) == 0.25 * 2 * 50
    # sold 5003 against 5002.5: better than asked, so negative slippage
    assert (sell["slippage"], sell["slippage_ticks"]) == ("-0.5", "-2")
    assert float(sell["realized_pnl"]) == (5003.0 - 5000.5) * 2 * 50
    for row in (buy, sell):  # the latency chain is complete and in order
        chain = [float(row[c]) for c in ("received_to_committed_ms", "committed_to_routed_ms",
                                          "routed_to_first_fill_ms")]
        assert all(v >= 0 for v in chain)
        assert float(row["received_to_first_fill_ms"]) == pytest.approx(sum(chain), abs=0.01)
    assert alerts[traded["unrouted"]]["outcome"] == "unrouted"
    assert alerts[traded["unrouted"]]["status_reason"] == "no enabled strategy lists ticker CL"
    assert alerts[traded["no_price"]]["outcome"] == "orders rejected"
    assert alerts[traded["no_price"]]["order_reasons"].startswith("no price for NQ")
    fills = rows(report.out_dir / "fills.csv")
    assert [int(f["alert_id"]) for f in fills] == [traded["buy"], traded["sell"]]
    assert float(fills[-1]["cumulative_pnl"]) == 250.0
    by_strategy = {r["strategy"]: r for r in rows(report.out_dir / "summary_by_strategy.csv")}
    assert by_strategy["Momentum"]["orders"] == "3" and by_strategy["Momentum"]["orders_rejected"] == "1"
    assert report.figures["realized_pnl"] == 250.0
    assert "no price for NQ" in report.html.read_text(encoding="utf-8")
