"""End to end: a headless Station's production TCP destination against the NinjaTrader add-on's compiled core
under Mono (a simulated account), over real sockets. A routed alert is acknowledged, filled, and shows filled in
`/api/orders` and held in `/api/positions`; a NinjaTrader that goes away and comes back loses nothing."""

from __future__ import annotations

import time

import pytest

from support.contract import DIALECT_1, start_headless
from support.launch import free_port
from support.wait import wait_until
from station.bench import addon_receiver

pytestmark = pytest.mark.skipif(addon_receiver.unavailable() is not None,
                                reason=str(addon_receiver.unavailable()))


@pytest.fixture
def desk(tmp_path):
    port = free_port()
    receiver = addon_receiver.AddonReceiver(tmp_path / "NinjaTrader", [port]).start()
    station = start_headless(tmp_path, {
        "strategies": {"Mom": {"accounts": {}, "tickers": {"ES": {"ports": [port]}}}},
        "settings": {"webhook": {"rate_limits": [], "failed_passphrase_limits": []}},
    })
    station.receiver, station.nt_port = receiver, port
    try:
        yield station
    finally:
        station.kill()
        receiver.stop()


def alert(desk, action: str, qty: int, trade_id: str) -> int:
    status, answer, _ = desk.post_alert({**DIALECT_1, "ticker": "ES", "action": action, "qty": qty, "price": 5000.25,
                                         "trade_id": trade_id})
    assert status == 200, answer
    return answer["alert_id"]


def order_of(desk, alert_id: int, status: str) -> dict:
    def find():
        for order in desk.get("/api/orders?limit=1000")["orders"]:
            if order["alert_id"] == alert_id and order["status"] == status:
                return order
        return None

    return wait_until(find, 15, interval=0.02, what=f"the order of alert {alert_id} {status}")


def position(desk) -> dict | None:
    return next((p for p in desk.get("/api/positions")["positions"]
                 if p["destination"] == f"port:{desk.nt_port}" and p["ticker"] == "ES"), None)


def test_a_routed_alert_is_acknowledged_filled_and_held_in_stations_book(desk):
    wait_until(lambda: desk.get("/health")["connections"].get(f"port:{desk.nt_port}") == "connected", 10,
               what="the port connected")
    first = alert(desk, "buy", 2, "Open_Long_1")
    start = time.monotonic()
    order = order_of(desk, first, "filled")
    took = time.monotonic() - start
    assert (order["destination"], order["ticker"], order["action"], order["qty"], order["filled_qty"]) == (
        f"port:{desk.nt_port}", "ES", "buy", 2, 2)
    assert float(order["avg_price"]) == 5000  # the simulated account's last price for ES 12-26
    held = wait_until(lambda: (p := position(desk)) and float(p["qty"]) == 2 and p, 5, what="2 ES held")
    assert float(held["avg_price"]) == 5000
    fills = [f for f in desk.get("/api/fills")["fills"] if f["order_id"] == order["id"]]
    assert len(fills) == 1 and float(fills[0]["qty"]) == 2
    assert took < 1.0, f"alert to filled in /api/orders took {took:.2f} s"  # CONTRACT: within a second

    second = alert(desk, "sell", 2, "Close_Long_1")  # closes it: the book is flat again, nothing unattributed
    order_of(desk, second, "filled")
    wait_until(lambda: (p := position(desk)) and float(p["qty"]) == 0, 5, what="flat")
    assert all(p["strategy"] == "Mom" for p in desk.get("/api/positions")["positions"])


def test_ninjatrader_away_and_back_gets_the_line_and_answers(desk):
    order_of(desk, alert(desk, "buy", 1, "warm"), "filled")
    desk.receiver.stop()  # NinjaTrader closes
    waiting = alert(desk, "buy", 1, "while NinjaTrader is away")
    desk.receiver.start()  # the same data folder: it remembers what it took
    order = order_of(desk, waiting, "filled")
    assert order["filled_qty"] == 1  # (the simulated account starts empty again: positions are not compared here)
    orders = [o for o in desk.get("/api/orders?limit=1000")["orders"] if o["destination"] == f"port:{desk.nt_port}"]
    assert len(orders) == 2 and all(o["status"] == "filled" for o in orders)
