"""CONTRACT.md "Order instructions in an alert", the paper fill rule, the REST order endpoints and the port line's
order instructions, from outside: a headless Station, plain HTTP, prices as scripts' market data rows, and a
SIGKILL with a held bracket followed by a start."""

from __future__ import annotations

import signal
import time
from datetime import datetime, timedelta, timezone

import pytest

from support.contract import (
    PASSPHRASE,
    TOKEN,
    LineListener,
    StationProcess,
    cli_ok,
    import_config,
    keyring_env,
    wait_until,
)

HEADER = "timestamp,symbol,open,high,low,close,volume,rsi,signal_strength\n"
_clock = [datetime(2026, 1, 5, 15, 0, tzinfo=timezone.utc)]


def prices(desk, symbol: str, *closes) -> None:
    """One market data row per price (each one trade at its close), as a script uploads them."""
    rows = []
    for close in closes:
        _clock[0] += timedelta(seconds=1)
        rows.append(f"{_clock[0]:%Y-%m-%dT%H:%M:%SZ},{symbol},{close},{close},{close},{close},1,,\n")
    status, body = desk.api("POST", "/api/trading-data", {"market_data_csv": HEADER + "".join(rows)})
    assert status == 200, body


def setup(root, ports=()):
    env = keyring_env(root)
    data_dir = root / "data"
    data_dir.mkdir()
    cli_ok(env, "secret", "set", "webhook-passphrase", input=PASSPHRASE + "\n")
    cli_ok(env, "secret", "set", "api-token", input=TOKEN + "\n")
    config = {"destinations": {"paper": {"type": "paper"}},
              "strategies": {"Alpha": {"tickers": {"ES": {"destinations": {"paper": {}}},
                                                   "NQ": {"destinations": {"paper": {"qty": 1}}}}},
                             "Ports": {"tickers": {"YM": {"ports": list(ports)}}}},
              "settings": {"webhook": {"rate_limits": [], "dedup_window_s": 0}}}
    assert import_config(env, data_dir, config).returncode == 0
    return env, data_dir


@pytest.fixture(scope="module")
def listener():
    line = LineListener().start()
    yield line
    line.stop()


@pytest.fixture(scope="module")
def desk(tmp_path_factory, listener):
    env, data_dir = setup(tmp_path_factory.mktemp("contract-orders"), [listener.port])
    station = StationProcess(data_dir, env).start()
    try:
        yield station
    finally:
        station.kill()


def alert(desk, body: dict) -> tuple[int, dict]:
    status, answer, _ = desk.post_alert(body)
    return status, answer


def orders_of(desk, alert_id: int) -> dict[str, dict]:
    return {o["role"]: o for o in desk.get("/api/orders?limit=1000")["orders"] if o["alert_id"] == alert_id}


def order(desk, coid: str) -> dict:
    return next(o for o in desk.get("/api/orders?limit=1000")["orders"] if o["id"] == coid)


def position(desk, strategy: str, ticker: str):
    return next((p["qty"] for p in desk.get("/api/positions")["positions"]
                 if p["strategy"] == strategy and p["ticker"] == ticker), 0)


# ---- the table of order instructions -------------------------------------------------------------------

@pytest.mark.parametrize("body,field", [
    ({"order_type": "limit"}, "limit_price"),                          # a type without its price
    ({"order_type": "stop"}, "stop_price"),
    ({"order_type": "stop_limit", "limit_price": 5001}, "stop_price"),
    ({"limit_price": 5001}, "limit_price"),                            # a price its type does not take
    ({"order_type": "limit", "limit_price": 4990, "stop_price": 4980}, "stop_price"),
    ({"order_type": "iceberg"}, "order_type"),
    ({"tif": "ioc"}, "tif"),
    ({"order_type": "limit", "limit_price": 4990, "stop_loss": 4995}, "stop_loss"),  # wrong side of the limit
    ({"take_profit": 4990}, "take_profit"),                            # wrong side of the alert's price
    ({"stop_loss": {"ticks": 0}}, "stop_loss"),                        # an offset <= 0
    ({"take_profit": {"points": "-2"}}, "take_profit"),
    ({"trailing_stop": {"percent": 0}}, "trailing_stop"),
    ({"stop_loss": {"ticks": 8, "pips": 2}}, "stop_loss"),             # an unknown key in an offset
    ({"trailing_stop": {"tiks": 8}}, "trailing_stop"),
    ({"trailing_stop": {"ticks": 8}, "stop_loss": {"ticks": 8}}, "trailing_stop"),
    ({"limit_price": "{{close}}", "order_type": "limit"}, "limit_price"),  # a placeholder TradingView left as is
    ({"order_type": "limit", "limit_price": "1e-30"}, "limit_price"),  # absurd, as an alert's price would be
])
def test_each_refusal_of_the_table_is_a_400_naming_the_field(desk, body, field):
    status, answer = alert(desk, {"ticker": "ES", "action": "buy", "qty": 1, "price": 5000, **body})
    assert status == 400 and answer["status"] == "error" and field in answer["errors"], answer


@pytest.mark.parametrize("action", ["exit", "close", "cancel"])
@pytest.mark.parametrize("extra", [{"order_type": "limit", "limit_price": 1}, {"tif": "gtc"}, {"stop_loss": 4990},
                                   {"take_profit": {"ticks": 4}}, {"trailing_stop": {"points": 2}}])
def test_exit_and_cancel_carrying_order_instructions_are_refused(desk, action, extra):
    status, answer = alert(desk, {"ticker": "ES", "action": action, **extra})
    assert status == 400 and set(extra) <= set(answer["errors"]), answer


def test_numbers_arrive_as_strings_and_a_limit_entry_works_at_paper(desk):
    prices(desk, "ES", 5000)
    status, answer = alert(desk, {"ticker": "ES", "action": "buy", "qty": "1", "price": "5000",
                                  "order_type": "limit", "limit_price": "4990.25", "tif": "GTC"})
    assert status == 200, answer
    entry = wait_until(lambda: orders_of(desk, answer["alert_id"]).get("entry"), what="the order")
    entry = wait_until(lambda: order(desk, entry["id"]) if order(desk, entry["id"])["status"] == "working" else None,
                       what="working")
    assert (entry["order_type"], entry["limit_price"], entry["tif"], entry["role"]) == ("limit", 4990.25, "gtc", "entry")
    assert entry["parent_id"] is None and entry["oco_group"] is None and entry["stop_price"] is None
    prices(desk, "ES", 4990.5, 4990.25)  # a trade at its price fills it, at its price
    wait_until(lambda: order(desk, entry["id"])["status"] == "filled", what="filled at the limit")
    assert order(desk, entry["id"])["avg_price"] == 4990.25
    status, answer = alert(desk, {"ticker": "ES", "action": "close"})
    assert status == 200
    wait_until(lambda: position(desk, "Alpha", "ES") == 0, what="closed")


def test_a_bracket_from_an_alert_holds_its_exits_until_the_fill_then_one_cancels_the_other(desk):
    prices(desk, "ES", 5000)
    status, answer = alert(desk, {"ticker": "ES", "action": "buy", "qty": 2, "price": 5000,
                                  "stop_loss": {"ticks": 8}, "take_profit": {"points": "4"}})
    assert status == 200, answer
    made = wait_until(lambda: (lambda o: o if {"entry", "stop_loss", "take_profit"} <= set(o) and
                               o["stop_loss"]["status"] == "working" else None)(orders_of(desk, answer["alert_id"])),
                      what="the bracket armed")
    entry, stop, target = made["entry"], made["stop_loss"], made["take_profit"]
    assert entry["status"] == "filled" and entry["avg_price"] == 5000
    assert (stop["action"], stop["qty"], stop["order_type"], stop["stop_price"]) == ("sell", 2, "stop", 4998)
    assert (target["order_type"], target["limit_price"], target["status"]) == ("limit", 5004, "working")
    assert stop["parent_id"] == target["parent_id"] == entry["id"] and stop["oco_group"] == target["oco_group"]
    prices(desk, "ES", 5002, 4997.5)
    wait_until(lambda: order(desk, stop["id"])["status"] == "filled", what="the stop filled")
    assert order(desk, stop["id"])["avg_price"] == 4997.5
    wait_until(lambda: order(desk, target["id"])["status"] == "cancelled", what="the target cancelled")
    wait_until(lambda: position(desk, "Alpha", "ES") == 0, what="flat")


def test_the_port_line_carries_the_order_instructions_and_the_new_actions(desk, listener):
    before = len(listener.raw)
    status, _ = alert(desk, {"ticker": "YM", "action": "buy", "qty": 1, "price": 40000, "order_type": "limit",
                             "limit_price": "39990", "stop_loss": {"ticks": 10}, "take_profit": 40100})
    assert status == 200
    line = listener.wait_lines(before + 1)[before]
    assert (line["order_type"], line["limit_price"], line["stop_price"], line["tif"]) == ("limit", 39990, None, None)
    assert (line["stop_loss"], line["take_profit"], line["trailing_stop"]) == ({"ticks": 10}, 40100, None)
    for action in ("exit", "reverse", "cancel"):
        status, _ = alert(desk, {"ticker": "YM", "action": action, "qty": 1})
        assert status == 200
    lines = listener.wait_lines(before + 4)
    assert [entry["action"] for entry in lines[before + 1:before + 4]] == ["exit", "reverse", "cancel"]
    assert all(entry["order_type"] is None for entry in lines[before + 1:before + 4])


# ---- REST ---------------------------------------------------------------------------------------------

def test_rest_orders_place_cancel_change_and_close(desk):
    prices(desk, "NQ", 20000)
    body = {"strategy": "Alpha", "ticker": "NQ", "action": "buy", "qty": 1, "order_type": "limit",
            "limit_price": 19950, "stop_loss": {"ticks": 20}, "click_id": "rest-1"}
    status, answer = desk.api("POST", "/api/orders", body)
    assert status == 201, answer
    entry, stop = answer["orders"]
    assert desk.api("POST", "/api/orders", body) == (201, {"orders": [entry, stop]})  # a retry makes nothing new
    assert order(desk, stop)["status"] == "held" and order(desk, stop)["parent_id"] == entry
    status, changed = desk.api("PATCH", f"/api/orders/{entry}", {"limit_price": "19960"})
    assert status == 200 and changed["order"]["limit_price"] == 19960 and changed["order"]["id"] == entry
    status, changed = desk.api("PATCH", f"/api/orders/{stop}", {"stop_price": 19900})
    assert status == 200 and changed["order"]["stop_price"] == 19900 and changed["order"]["status"] == "held"
    assert desk.api("PATCH", f"/api/orders/{entry}", {"stop_price": 1})[0] == 409  # a limit takes no stop price
    assert desk.api("PATCH", f"/api/orders/{entry}", {"qty": -1})[0] == 400
    status, cancelled = desk.api("DELETE", f"/api/orders/{entry}")
    assert status == 200 and cancelled["order"]["status"] == "cancelled"
    wait_until(lambda: order(desk, stop)["status"] == "cancelled", what="its held exit went with it")
    assert desk.api("DELETE", f"/api/orders/{entry}")[0] == 409
    assert desk.api("DELETE", "/api/orders/no-such-order")[0] == 404
    assert desk.api("PATCH", "/api/orders/no-such-order", {"qty": 1})[0] == 404

    status, answer = desk.api("POST", "/api/orders", {"strategy": "Alpha", "ticker": "NQ", "action": "sell",
                                                      "trailing_stop": {"points": 10}})
    assert status == 201 and len(answer["orders"]) == 2
    wait_until(lambda: position(desk, "Alpha", "NQ") == -1, what="short 1")
    trailing = wait_until(lambda: order(desk, answer["orders"][1]) if order(desk, answer["orders"][1])["status"]
                          == "working" else None, what="trailing stop working")
    assert (trailing["role"], trailing["action"], trailing["stop_price"]) == ("trailing_stop", "buy", 20010)
    status, closed = desk.api("POST", "/api/positions/close", {"strategy": "Alpha", "ticker": "NQ"})
    assert status == 200 and [o["action"] for o in closed["orders"]] == ["buy"]
    wait_until(lambda: position(desk, "Alpha", "NQ") == 0, what="closed")
    wait_until(lambda: order(desk, trailing["id"])["status"] == "cancelled", what="its protection cancelled")
    assert desk.api("POST", "/api/positions/close", {"strategy": "Alpha", "ticker": "NQ"})[0] == 409


def test_rest_order_refusals(desk):
    for body, field in (({"ticker": "NQ", "action": "buy"}, "strategy"),
                        ({"strategy": "Alpha", "ticker": "NQ", "action": "hold"}, "action"),
                        ({"strategy": "Alpha", "ticker": "NQ", "action": "buy", "order_type": "stop"}, "stop_price"),
                        ({"strategy": "Alpha", "ticker": "NQ", "action": "buy", "stop_loss": {"bps": 3}}, "stop_loss"),
                        ({"strategy": "Alpha", "ticker": "NQ", "action": "buy", "qty": 0}, "qty")):
        status, answer = desk.api("POST", "/api/orders", body)
        assert status == 400 and field in answer["errors"], (body, answer)
    assert desk.api("POST", "/api/orders", {"strategy": "Nobody", "ticker": "NQ", "action": "buy"})[0] == 404
    status, answer = desk.api("POST", "/api/orders", {"strategy": "Alpha", "ticker": "ES", "action": "buy",
                                                      "qty": 1, "destination": "elsewhere"})
    assert status == 400 and "destination" in answer["errors"], answer


def test_no_price_at_all_is_a_409_with_the_reason(tmp_path):
    env, data_dir = setup(tmp_path)
    station = StationProcess(data_dir, env).start()
    try:
        status, answer = station.api("POST", "/api/orders", {"strategy": "Alpha", "ticker": "ES", "action": "buy",
                                                              "qty": 1})
        assert status == 409 and "no price" in answer["message"], answer
    finally:
        station.kill()


# ---- a crash with a held bracket ------------------------------------------------------------------------

def test_sigkill_with_a_held_bracket_then_a_start_loses_nothing_and_doubles_nothing(tmp_path):
    env, data_dir = setup(tmp_path)
    station = StationProcess(data_dir, env).start()
    try:
        prices(station, "ES", 5000)
        status, answer = alert(station, {"ticker": "ES", "action": "buy", "qty": 1, "price": 5000,
                                         "order_type": "limit", "limit_price": 4990,
                                         "stop_loss": {"ticks": 8}, "take_profit": {"ticks": 8}})
        assert status == 200
        alert_id = answer["alert_id"]
        wait_until(lambda: orders_of(station, alert_id).get("entry", {}).get("status") == "working", what="working")
        assert {o["status"] for r, o in orders_of(station, alert_id).items() if r != "entry"} == {"held"}
        station.proc.send_signal(signal.SIGKILL)
        station.proc.wait(10)

        station.start()
        made = orders_of(station, alert_id)
        assert [made[r]["status"] for r in ("entry", "stop_loss", "take_profit")] == ["working", "held", "held"]
        time.sleep(0.2)  # nothing arms on its own
        prices(station, "ES", 4991, 4989.75)  # the entry fills at 4990
        made = wait_until(lambda: (lambda o: o if o["stop_loss"]["status"] == "working" else None)(
            orders_of(station, alert_id)), what="armed once after the start")
        assert (made["stop_loss"]["stop_price"], made["take_profit"]["limit_price"]) == (4988, 4992)
        prices(station, "ES", 4992.5)
        wait_until(lambda: orders_of(station, alert_id)["take_profit"]["status"] == "filled", what="target")
        wait_until(lambda: orders_of(station, alert_id)["stop_loss"]["status"] == "cancelled", what="OCO")
        station.proc.send_signal(signal.SIGKILL)
        station.proc.wait(10)

        station.start()
        every = [o for o in station.get("/api/orders?limit=1000")["orders"] if o["alert_id"] == alert_id]
        assert sorted(o["role"] for o in every) == ["entry", "stop_loss", "take_profit"]
        fills = [f for f in station.get("/api/fills?limit=1000")["fills"] if f["order_id"].startswith(made["entry"]["id"])]
        assert len(fills) == 2 and position(station, "Alpha", "ES") == 0
    finally:
        station.kill()


def test_paper_orders_in_flight_at_sigterm_end_filled_or_rejected(tmp_path):
    import threading

    env, data_dir = setup(tmp_path)
    station = StationProcess(data_dir, env).start()
    try:
        prices(station, "ES", 5000)
        answered = []

        def send(start):
            for n in range(start, start + 40):
                try:
                    status, _ = alert(station, {"ticker": "ES", "action": "buy" if n % 2 else "sell", "qty": 1,
                                                "price": 5000, "trade_id": f"flood-{n}"})
                except OSError:  # Station stopped: the rest of this sender's alerts find no one
                    return
                answered.append(status)

        senders = [threading.Thread(target=send, args=(k * 40,)) for k in range(3)]
        for sender in senders:
            sender.start()
        wait_until(lambda: len(answered) >= 30, what="alerts in flight")
        code, _ = station.stop(signal.SIGTERM)
        for sender in senders:
            sender.join(30)
        assert code == 0
        station.start()
        wait_until(lambda: all(o["status"] in ("filled", "rejected") for o in station.get("/api/orders?limit=1000")
                               ["orders"]), what="every paper order filled or rejected after the start")
    finally:
        station.kill()
