"""CONTRACT.md on destinations, from outside: NinjaTrader ports while down and across restarts,
ATI order files and the outgoing folder, the paper broker, sizes per destination."""

from __future__ import annotations

import re
import signal

import pytest

from support.contract import (
    DIALECT_1,
    PASSPHRASE,
    TOKEN,
    LineListener,
    StationProcess,
    cli_ok,
    import_config,
    keyring_env,
    wait_until,
)

ORDER_STATUSES = {"new", "submitted", "working", "partially_filled", "filled", "cancelled", "rejected"}


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """A headless Station with a port nobody listens on yet, two paper destinations and an ATI account."""
    root = tmp_path_factory.mktemp("contract-destinations")
    env = keyring_env(root)
    data_dir = root / "data"
    data_dir.mkdir()
    incoming, outgoing = root / "nt" / "incoming", root / "nt" / "outgoing"
    incoming.mkdir(parents=True)
    outgoing.mkdir(parents=True)
    late = LineListener()  # not started: NinjaTrader is not running yet
    config = {
        "destinations": {
            "paper": {"type": "paper"},
            "paper-x3": {"type": "paper"},
            "nt-sim": {"type": "ninjatrader-ati", "account": "Sim101", "incoming": str(incoming),
                       "outgoing": str(outgoing)},
        },
        "strategies": {
            "Ports": {"tickers": {"NQ": {"ports": [late.port]}}},
            "Book": {"tickers": {
                "ES": {"destinations": {"paper": {"qty": 2}, "paper-x3": {"multiplier": 3, "instrument": "ES 12-26"}}},
                "RTY": {"destinations": {"paper": {}}},
                "MES": {"destinations": {"nt-sim": {"qty": 1, "instrument": "MES 12-26"}}}}},
        },
        "settings": {"webhook": {"rate_limits": [], "failed_passphrase_limits": []}},
    }
    cli_ok(env, "secret", "set", "webhook-passphrase", input=PASSPHRASE + "\n")
    cli_ok(env, "secret", "set", "api-token", input=TOKEN + "\n")
    assert import_config(env, data_dir, config).returncode == 0
    station = StationProcess(data_dir, env).start()
    station.late, station.incoming, station.outgoing = late, incoming, outgoing
    try:
        yield station
    finally:
        station.kill()
        late.stop()


def queued(desk, body: dict) -> int:
    status, answer, _ = desk.post_alert(body)
    assert status == 200 and answer["message"] == "Alert queued", answer
    return answer["alert_id"]


def orders_of(desk, alert_id: int, count: int, *, status: str | None = None) -> list[dict]:
    def find():
        orders = [o for o in desk.get("/api/orders?limit=1000")["orders"] if o["alert_id"] == alert_id]
        if len(orders) >= count and (status is None or all(o["status"] == status for o in orders)):
            return orders
        return None

    return wait_until(find, what=f"{count} orders of alert {alert_id}" + (f" {status}" if status else ""))


def test_paper_fills_at_the_alert_price_with_fixed_and_multiplied_sizes_once_however_often_resent(desk):
    body = {**DIALECT_1, "ticker": "ES", "qty": 2, "price": 5000.25, "trade_id": "paper-1"}
    alert_id = queued(desk, body)
    for _ in range(3):  # TradingView resends
        status, answer, _ = desk.post_alert(body)
        assert answer == {"status": "skipped", "message": "Duplicate alert", "alert_id": alert_id}
    orders = {o["destination"]: o for o in orders_of(desk, alert_id, 2, status="filled")}
    assert set(orders) == {"paper", "paper-x3"}
    assert (orders["paper"]["qty"], orders["paper"]["filled_qty"], orders["paper"]["avg_price"]) == (2, 2, 5000.25)
    assert (orders["paper-x3"]["qty"], orders["paper-x3"]["avg_price"]) == (6, 5000.25)
    for order in orders.values():
        assert {"id", "alert_id", "destination", "ticker", "action", "qty", "status", "filled_qty",
                "avg_price"} <= set(order)
        assert order["ticker"] == "ES" and order["action"] == "buy" and order["status"] in ORDER_STATUSES
    assert len({o["id"] for o in orders.values()}) == 2
    fills = [f for f in desk.get("/api/fills")["fills"] if f["order_id"] in {o["id"] for o in orders.values()}]
    assert sorted((f["qty"], f["price"]) for f in fills) == [(2, 5000.25), (6, 5000.25)]
    positions = {(p["destination"], p["ticker"]): p for p in desk.get("/api/positions")["positions"]}
    assert positions[("paper", "ES")]["qty"] == 2
    assert any(p["strategy"] == "Book" for p in desk.get("/api/pnl")["pnl"])


def test_paper_rejects_a_market_order_with_no_price_at_all_saying_why(desk):
    alert_id = queued(desk, {"ticker": "RTY", "action": "sell", "qty": 1, "trade_id": "no-price"})
    [order] = orders_of(desk, alert_id, 1, status="rejected")
    assert order["reason"] and "price" in order["reason"]


def test_paper_does_not_fill_a_priceless_alert_at_an_older_alert_price(desk):
    queued(desk, {"ticker": "RTY", "action": "buy", "qty": 1, "price": 2100, "trade_id": "priced"})
    alert_id = queued(desk, {"ticker": "RTY", "action": "sell", "qty": 1, "trade_id": "priceless"})
    [order] = orders_of(desk, alert_id, 1, status="rejected")
    assert "price" in order["reason"]


def test_paper_fills_at_the_feed_price_when_there_is_a_feed(desk):
    csv = "timestamp,symbol,open,high,low,close,volume,rsi,signal_strength\n" \
          "2024-01-04T15:30:00Z,ES,5010,5012,5009,5011.5,100,55,0.5\n"
    status, answer = desk.api("POST", "/api/trading-data", {"market_data_csv": csv})
    assert status == 200, answer

    def filled_at_feed():
        alert_id = queued(desk, {**DIALECT_1, "ticker": "ES", "qty": 1, "price": 4000, "trade_id": f"feed-{n[0]}"})
        n[0] += 1
        orders = orders_of(desk, alert_id, 2, status="filled")
        return all(o["avg_price"] == 5011.5 for o in orders)

    n = [0]
    wait_until(filled_at_feed, timeout=5, interval=0.2, what="a fill at the feed's price")


def test_ati_order_file_format_and_outgoing_updates(desk):
    first = queued(desk, {**DIALECT_1, "ticker": "MES", "qty": 3, "price": 5000, "trade_id": "ati-1"})
    [order] = orders_of(desk, first, 1)
    files = wait_until(lambda: sorted(desk.incoming.glob("oif*.txt")), what="an oif file")
    [path] = files
    assert re.fullmatch(r"oif\d+\.txt", path.name)
    assert path.read_text().strip() == f"PLACE;Sim101;MES 12-26;BUY;1;MARKET;0;0;DAY;;{order['id']};;"
    assert order["qty"] == 1
    path.unlink()  # NinjaTrader takes the file

    (desk.outgoing / f"{order['id']}.txt").write_text("FILLED;1;5000.5")
    (desk.outgoing / "MES 12-26 Globex_Sim101_Position.txt").write_text("LONG;1;5000.5")
    [filled] = orders_of(desk, first, 1, status="filled")
    assert (filled["filled_qty"], filled["avg_price"]) == (1, 5000.5)
    wait_until(lambda: any(p["destination"] == "nt-sim" and p["qty"] == 1 for p in
                           desk.get("/api/positions")["positions"]), what="the ATI position")

    second = queued(desk, {**DIALECT_1, "ticker": "MES", "action": "sell", "qty": 1, "price": 5001,
                           "trade_id": "ati-2"})
    [path2] = wait_until(lambda: sorted(desk.incoming.glob("oif*.txt")), what="a second oif file")
    assert _n(path2) > _n(path)
    assert ";SELL;1;MARKET;" in path2.read_text()
    path2.unlink()
    desk.ati_last = _n(path2)
    assert orders_of(desk, second, 1)


def _n(path) -> int:
    return int(path.stem[3:])


def test_port_lines_wait_while_down_and_across_restarts_then_arrive_in_order_once(desk):
    ids = [queued(desk, {**DIALECT_1, "ticker": "NQ", "trade_id": f"wait-{n}"}) for n in range(3)]
    code, seconds = desk.stop(signal.SIGTERM)
    assert code == 0 and seconds < 2
    desk.start()
    ids.append(queued(desk, {**DIALECT_1, "ticker": "NQ", "trade_id": "wait-3"}))
    desk.proc.kill()  # a crash: what was answered must still arrive
    desk.proc.wait(10)
    desk.start()
    ids.append(queued(desk, {**DIALECT_1, "ticker": "NQ", "trade_id": "wait-4"}))
    desk.late.start()  # NinjaTrader comes up
    lines = desk.late.wait_lines(5, timeout=20)
    assert [line["alert_id"] for line in lines] == ids
    assert [line["trade_id"] for line in lines] == [f"wait-{n}" for n in range(5)]
    assert len({line["id"] for line in lines}) == 5

    # the ATI file numbers go on after the restarts, never reused
    third = queued(desk, {**DIALECT_1, "ticker": "MES", "qty": 1, "price": 5002, "trade_id": "ati-3"})
    [path] = wait_until(lambda: sorted(desk.incoming.glob("oif*.txt")), what="an oif file after restarts")
    assert _n(path) > getattr(desk, "ati_last", 0)
    assert orders_of(desk, third, 1)
