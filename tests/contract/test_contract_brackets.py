"""CONTRACT.md "Order instructions in an alert" at broker destinations, from outside: a headless Station, a
webhook alert with a stop and a target, the bracket sent natively (Tastytrade: OTOCO; Schwab: TRIGGER with OCO) to
loopback doubles of their APIs, and what `/api/orders` and `/api/positions` say as the broker fills it."""

from __future__ import annotations

import pytest

from support.contract import PASSPHRASE, TOKEN, StationProcess, cli_ok, import_config, keyring_env, wait_until
from support.schwab_double import ACCOUNT as SCHWAB_ACCOUNT, APP_KEY, APP_SECRET, SchwabDouble
from support.tastytrade_double import ACCOUNT as TASTY_ACCOUNT, CLIENT_SECRET, TastytradeDouble
from support.threaded_double import ThreadedDouble

TIMEOUT = 15


@pytest.fixture(scope="module")
def tasty():
    double = ThreadedDouble(TastytradeDouble()).start()
    yield double
    double.stop()


@pytest.fixture(scope="module")
def schwab():
    double = ThreadedDouble(SchwabDouble()).start()
    yield double
    double.stop()


@pytest.fixture(scope="module")
def desk(tmp_path_factory, tasty, schwab):
    root = tmp_path_factory.mktemp("contract-brackets")
    env = keyring_env(root)
    data_dir = root / "data"
    data_dir.mkdir()
    secrets = {"webhook-passphrase": PASSPHRASE, "api-token": TOKEN,
               "tastytrade-client-secret": CLIENT_SECRET,
               "tastytrade-refresh-token": tasty.call(tasty.double.issue_refresh_token),
               "schwab-app-key": APP_KEY, "schwab-app-secret": APP_SECRET,
               "schwab-refresh-token": schwab.call(schwab.double.issue_refresh_token)}
    for name, value in secrets.items():
        cli_ok(env, "secret", "set", name, input=value + "\n")
    config = {"destinations": {
                  "tt": {"type": "tastytrade", "account": TASTY_ACCOUNT, "base_url": tasty.url, "poll_s": 0.2},
                  "sw": {"type": "schwab", "account": SCHWAB_ACCOUNT, "base_url": schwab.url, "poll_s": 0.2}},
              "strategies": {"Alpha": {"tickers": {"AAPL": {"destinations": {"tt": {}}},
                                                   "TSLA": {"destinations": {"sw": {}}}}}},
              "settings": {"webhook": {"rate_limits": [], "dedup_window_s": 0}}}
    assert import_config(env, data_dir, config).returncode == 0
    station = StationProcess(data_dir, env).start()
    try:
        yield station
    finally:
        station.kill()


def orders_of(desk, alert_id: int) -> dict[str, dict]:
    return {o["role"]: o for o in desk.get("/api/orders?limit=1000")["orders"] if o["alert_id"] == alert_id}


def position(desk, ticker: str):
    return next((p["qty"] for p in desk.get("/api/positions")["positions"]
                 if p["strategy"] == "Alpha" and p["ticker"] == ticker), 0)


def statuses(desk, alert_id: int) -> dict[str, str]:
    return {role: o["status"] for role, o in orders_of(desk, alert_id).items()}


def test_stop_and_target_at_tastytrade_are_one_otoco(desk, tasty):
    status, answer, _ = desk.post_alert({"ticker": "AAPL", "action": "buy", "qty": 10, "price": 150,
                                         "stop_loss": 145, "take_profit": {"points": "10"}})
    assert status == 200, answer
    alert_id = answer["alert_id"]
    [body] = wait_until(lambda: tasty.call(lambda: list(tasty.double.complex_bodies)), TIMEOUT, what="an OTOCO")
    entry = f"a{alert_id}-Alpha-tt"
    assert body["type"] == "OTOCO" and body["trigger-order"]["external-identifier"] == entry
    assert body["trigger-order"]["legs"][0]["action"] == "Buy to Open"
    assert [(o["external-identifier"], o["order-type"], o.get("stop-trigger"), o.get("price"), o["legs"][0]["action"])
            for o in body["orders"]] == [(f"{entry}-sl", "Stop", "145", None, "Sell to Close"),
                                         (f"{entry}-tp", "Limit", None, "160", "Sell to Close")]
    wait_until(lambda: statuses(desk, alert_id) == {"entry": "working", "stop_loss": "held", "take_profit": "held"},
               TIMEOUT, what="entry working, exits held")
    made = orders_of(desk, alert_id)
    assert made["stop_loss"]["parent_id"] == made["take_profit"]["parent_id"] == entry
    assert made["stop_loss"]["oco_group"] == made["take_profit"]["oco_group"] == f"{entry}-oco"

    trigger, stop, target = tasty.call(lambda: tasty.double.components(next(iter(tasty.double.complex_orders))))
    tasty.call(tasty.double.fill, trigger["id"], 10, "150.05")
    wait_until(lambda: statuses(desk, alert_id) == {"entry": "filled", "stop_loss": "working", "take_profit": "working"},
               TIMEOUT, what="filled, the exits at work there")
    wait_until(lambda: position(desk, "AAPL") == 10, TIMEOUT, what="long 10")
    tasty.call(tasty.double.fill, target["id"], 10, "160")
    wait_until(lambda: statuses(desk, alert_id)["stop_loss"] == "cancelled", TIMEOUT, what="one cancels the other")
    assert orders_of(desk, alert_id)["take_profit"]["avg_price"] == 160
    wait_until(lambda: position(desk, "AAPL") == 0, TIMEOUT, what="flat")


def test_stop_and_target_at_schwab_are_a_trigger_with_oco(desk, schwab):
    status, answer, _ = desk.post_alert({"ticker": "TSLA", "action": "sell", "qty": 5, "price": 250,
                                         "stop_loss": {"percent": 1}, "take_profit": 240})
    assert status == 200, answer
    alert_id = answer["alert_id"]
    [body] = wait_until(lambda: schwab.call(lambda: list(schwab.double.bodies)), TIMEOUT, what="a TRIGGER order")
    assert (body["orderStrategyType"], body["orderLegCollection"][0]["instruction"]) == ("TRIGGER", "SELL_SHORT")
    [oco] = body["childOrderStrategies"]
    assert oco["orderStrategyType"] == "OCO"
    assert [(o["orderType"], o.get("stopPrice"), o.get("price"), o["orderLegCollection"][0]["instruction"])
            for o in oco["childOrderStrategies"]] == [("STOP", "252.5", None, "BUY_TO_COVER"),
                                                      ("LIMIT", None, "240", "BUY_TO_COVER")]
    parent, _, stop, target = schwab.call(lambda: schwab.double.trigger_tree(max(schwab.double.orders)))
    wait_until(lambda: statuses(desk, alert_id) == {"entry": "working", "stop_loss": "held", "take_profit": "held"},
               TIMEOUT, what="entry working, exits held")
    schwab.call(schwab.double.fill, parent["orderId"], 5, "249.9")
    wait_until(lambda: statuses(desk, alert_id) == {"entry": "filled", "stop_loss": "working", "take_profit": "working"},
               TIMEOUT, what="filled, the exits at work there")
    wait_until(lambda: position(desk, "TSLA") == -5, TIMEOUT, what="short 5")
    schwab.call(schwab.double.fill, stop["orderId"], 5, "252.6")
    wait_until(lambda: statuses(desk, alert_id)["take_profit"] == "cancelled", TIMEOUT, what="one cancels the other")
    assert orders_of(desk, alert_id)["stop_loss"]["avg_price"] == 252.6
    wait_until(lambda: position(desk, "TSLA") == 0, TIMEOUT, what="flat")
