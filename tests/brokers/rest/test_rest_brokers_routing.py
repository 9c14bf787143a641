"""Alerts routed by the real oms to a Tastytrade destination (loopback double of its REST API)."""

import pytest

from support.oms import journal, make_alert
from support.wait import until
from station.app import Options, Station
from support.tastytrade_double import ACCOUNT, CLIENT_SECRET, TastytradeDouble


@pytest.fixture
async def double():
    server = TastytradeDouble()
    await server.start()
    yield server
    await server.stop()


async def test_alert_to_tastytrade_fill_position_and_split_reversal(double, data_dir, secrets):
    secrets.set("tastytrade-client-secret", CLIENT_SECRET)
    secrets.set("tastytrade-refresh-token", double.issue_refresh_token())
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document({
        "destinations": {"tt": {"type": "tastytrade", "account": ACCOUNT, "base_url": double.url, "poll_s": 0.2}},
        "strategies": {"Momentum": {"tickers": {"AAPL": {"destinations": {"tt": {"qty": 10}}}}}},
    })
    await station.start()
    try:
        await until(lambda: station.connections.get("tt") and str(station.connections["tt"].state) == "connected",
                       timeout=10)
        alert = await journal(station, make_alert("AAPL", "buy", qty="10", price="150", strategy="Momentum"))
        coid = f"a{alert.alert_id}-Momentum-tt"
        await until(lambda: any(o.get("external-identifier") == coid for o in double.orders.values()), timeout=10)
        placed = double.by_external_id(coid)
        assert placed["legs"][0]["symbol"] == "AAPL" and placed["legs"][0]["action"] == "Buy to Open"
        double.fill(placed["id"], 10, "150.10")
        await until(lambda: station.oms.book.position("tt", "AAPL", "Momentum") == 10, timeout=10)
        def row():
            return station.store.query("SELECT status, filled_qty, avg_price FROM orders WHERE client_order_id = ?",
                                       (coid,))[0]

        await until(lambda: row()["status"] == "filled", timeout=5)  # the book is ahead of its rows
        assert (row()["filled_qty"], row()["avg_price"]) == ("10", "150.10")

        # going short while long: Tastytrade takes no order crossing zero, so close then open
        reverse = await journal(station, make_alert("AAPL", "sell", qty="10", price="151", strategy="Momentum",
                                                    position="long", target_position="short"))
        legs = [f"a{reverse.alert_id}-Momentum-tt-close", f"a{reverse.alert_id}-Momentum-tt-open"]
        await until(lambda: all(any(o.get("external-identifier") == c for o in double.orders.values())
                                   for c in legs[:1]), timeout=10)
        close = double.by_external_id(legs[0])
        assert close["legs"][0]["action"] == "Sell to Close" and close["legs"][0]["quantity"] == 10
    finally:
        await station.stop()
