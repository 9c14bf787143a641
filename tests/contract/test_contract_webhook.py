"""CONTRACT.md "TradingView webhook" and the NinjaTrader line, from outside: one headless Station.

Every alert goes over real HTTP to `station --headless`; its lines are read by TCP
listeners standing in for NinjaTrader strategies on the configured ports.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from support.contract import (
    DIALECT_1,
    DIALECT_2,
    DIALECT_3,
    LINE_FIELDS,
    NO_INSTRUCTIONS,
    PASSPHRASE,
    TOKEN,
    LineListener,
    StationProcess,
    cli_ok,
    export_config,
    import_config,
    keyring_env,
    wait_until,
)

EASTERN = ZoneInfo("America/New_York")
ALERT_STATUSES = {"queued", "routed", "unrouted", "rejected"}


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """A headless Station with four strategies (one stopped) and a listener on every port they name."""
    root = tmp_path_factory.mktemp("contract-webhook")
    env = keyring_env(root)
    data_dir = root / "data"
    ports = {name: LineListener().start() for name in ("aapl", "tsla1", "tsla2", "other", "sleeper", "es", "pair")}
    config = {
        "strategies": {
            "MomentumStrategy": {"accounts": {}, "tickers": {
                "AAPL": {"ports": [ports["aapl"].port]},
                "TSLA": {"ports": [ports["tsla1"].port, ports["tsla2"].port]},
                "NMFC": {"ports": [ports["pair"].port]}}},
            "Other": {"tickers": {"AAPL": {"ports": [ports["other"].port]}}},
            "Sleeper": {"enabled": False, "tickers": {"AAPL": {"ports": [ports["sleeper"].port]}}},
            "Futures": {"tickers": {"ES": {"ports": [ports["es"].port]}}},
        },
        "settings": {"webhook": {"rate_limits": [], "failed_passphrase_limits": []}},
    }
    cli_ok(env, "secret", "set", "webhook-passphrase", input=PASSPHRASE + "\n")
    cli_ok(env, "secret", "set", "api-token", input=TOKEN + "\n")
    data_dir.mkdir()
    assert import_config(env, data_dir, config).returncode == 0
    station = StationProcess(data_dir, env).start()
    station.ports = ports
    # Station holds a connection to every port an enabled strategy lists, before any alert
    wait_until(lambda: all(ports[name].accepted for name in ports if name != "sleeper"), what="connections")
    try:
        yield station
    finally:
        station.kill()
        for listener in ports.values():
            listener.stop()


def lines_for(listener: LineListener, alert_id: int, count: int = 1) -> list[dict]:
    wait_until(lambda: sum(1 for line in listener.lines if line["alert_id"] == alert_id) >= count,
               what=f"line of alert {alert_id} on port {listener.port}")
    return [line for line in listener.lines if line["alert_id"] == alert_id]


def accepted(answer) -> int:
    status, body, headers = answer
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    assert set(body) == {"status", "message", "alert_id"}
    assert body["status"] == "success" and body["message"] == "Alert queued"
    assert type(body["alert_id"]) is int
    return body["alert_id"]


def listed_alert(desk, alert_id: int, status: str | None = None) -> dict:
    def find():
        for alert in desk.get("/api/alerts?limit=1000")["alerts"]:
            if alert["alert_id"] == alert_id and (status is None or alert["status"] == status):
                return alert
        return None

    return wait_until(find, what=f"alert {alert_id} listed" + (f" as {status}" if status else ""))


def assert_error(answer, status: int) -> dict:
    got, body, headers = answer
    assert got == status, body
    assert headers["content-type"].startswith("application/json")
    assert body["status"] == "error" and isinstance(body["message"], str) and body["message"]
    return body


# ---- the three dialects and the line each makes ----------------------------------------------


def test_dialect_1_goes_to_every_enabled_strategy_listing_the_ticker_with_the_exact_line(desk):
    alert_id = accepted(desk.post_alert({**DIALECT_1, "trade_id": "Open_Long_ID_123"}))
    [momentum] = lines_for(desk.ports["aapl"], alert_id)
    [other] = lines_for(desk.ports["other"], alert_id)
    assert list(momentum) == LINE_FIELDS  # field names, in this order
    assert {k: v for k, v in momentum.items() if k != "id"} == {
        "alert_id": alert_id, "strategy": "MomentumStrategy", "ticker": "AAPL", "action": "buy", "qty": 10,
        "price": 150.25, "position": "short", "target_position": None, "trade_id": "Open_Long_ID_123",
        "time": "2024-01-04T10:30:00-05:00", **NO_INSTRUCTIONS}
    assert other["strategy"] == "Other" and other["id"] != momentum["id"]
    assert isinstance(momentum["id"], str) and momentum["id"]
    # the stopped strategy and the other tickers' ports get nothing
    alert = listed_alert(desk, alert_id, "routed")
    assert not [line for line in desk.ports["sleeper"].lines if line["alert_id"] == alert_id]
    assert not [line for p in ("tsla1", "tsla2", "es") for line in desk.ports[p].lines if line["alert_id"] == alert_id]
    assert {k: alert[k] for k in ("ticker", "action", "qty", "price")} == {
        "ticker": "AAPL", "action": "buy", "qty": 10, "price": 150.25}


def test_dialect_2_as_text_plain_with_numbers_as_strings_to_the_path_strategy_only(desk):
    body = {"passphrase": PASSPHRASE, **DIALECT_2}
    before = datetime.now(timezone.utc)
    answer = desk.request("POST", "/webhook/MomentumStrategy", json.dumps(body).encode(),
                          headers={"Content-Type": "text/plain; charset=utf-8"})
    alert_id = accepted(answer)
    [line] = lines_for(desk.ports["aapl"], alert_id)
    assert list(line) == LINE_FIELDS
    assert (line["qty"], line["price"], line["action"]) == (100, 400.2, "buy")
    assert (line["position"], line["target_position"], line["trade_id"]) == ("flat", "long", "Enter Long")
    assert line["strategy"] == "MomentumStrategy"
    # no time in dialect 2: the time received, in US/Eastern with that day's offset
    sent = datetime.fromisoformat(line["time"])
    assert sent.utcoffset() == sent.astimezone(EASTERN).utcoffset()
    assert line["time"].endswith(("-05:00", "-04:00"))
    assert abs((sent - before).total_seconds()) < 5
    listed_alert(desk, alert_id, "routed")
    assert not [line for line in desk.ports["other"].lines if line["alert_id"] == alert_id]


def test_dialect_3_upper_case_action_and_a_summer_time(desk):
    alert_id = accepted(desk.post_alert(DIALECT_3))
    [line] = lines_for(desk.ports["es"], alert_id)
    assert {k: v for k, v in line.items() if k != "id"} == {
        "alert_id": alert_id, "strategy": "Futures", "ticker": "ES", "action": "buy", "qty": 1, "price": 4500.5,
        "position": None, "target_position": None, "trade_id": None, "time": "2023-05-01T08:34:56-04:00",
        **NO_INSTRUCTIONS}


def test_a_spread_line_carries_both_legs_and_the_hedge(desk):
    alert_id = accepted(desk.post_alert({**DIALECT_2, "ticker": "NMFC-0.72*NASDAQ:ROIC", "order_comment": "pair 1"}))
    [line] = lines_for(desk.ports["pair"], alert_id)
    assert list(line) == LINE_FIELDS + ["ticker1", "hedge", "ticker2"]
    assert (line["ticker"], line["ticker1"], line["hedge"], line["ticker2"]) == ("NMFC-0.72*NASDAQ:ROIC", "NMFC", 0.72,
                                                                                 "ROIC")


def test_a_ticker_with_two_ports_reaches_both_in_the_order_alerts_were_accepted(desk):
    ids = [accepted(desk.post_alert({**DIALECT_1, "ticker": "TSLA", "trade_id": f"order-{n}"})) for n in range(8)]
    for port in ("tsla1", "tsla2"):
        lines = wait_until(lambda: [line for line in desk.ports[port].lines if line["alert_id"] in ids]
                           if sum(line["alert_id"] in ids for line in desk.ports[port].lines) == 8 else None,
                           what=f"8 lines on {port}")
        assert [line["alert_id"] for line in lines] == ids
        assert [line["trade_id"] for line in lines] == [f"order-{n}" for n in range(8)]


def test_concurrent_alerts_reach_each_port_in_the_order_they_were_accepted(desk):
    import threading

    ids: list[int] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        alert_id = accepted(desk.post_alert({**DIALECT_1, "ticker": "TSLA", "trade_id": f"burst-{n}"}))
        with lock:
            ids.append(alert_id)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for port in ("tsla1", "tsla2"):
        got = wait_until(lambda: [line["alert_id"] for line in desk.ports[port].lines if line["alert_id"] in ids]
                         if sum(line["alert_id"] in ids for line in desk.ports[port].lines) == 24 else None,
                         what=f"24 lines on {port}")
        assert got == sorted(ids)  # alert ids are given in the order alerts are accepted


def test_the_dedup_window_is_a_live_setting(desk):
    assert import_config(desk.env, desk.data_dir, {"settings": {"webhook": {"dedup_window_s": 1}}}).returncode == 0
    body = {**DIALECT_1, "ticker": "ZZZZ", "trade_id": "window"}
    first = accepted(desk.post_alert(body))
    assert desk.post_alert(body)[1] == {"status": "skipped", "message": "Duplicate alert", "alert_id": first}
    time.sleep(1.0)  # the scenario: the 1 s window passes
    # new again once the running Station has the 1 s window too: it follows an import within 5 s (CONTRACT)
    again = accepted(wait_until(lambda: (answer := desk.post_alert(body))[1]["status"] == "success" and answer,
                                5, interval=0.1, what="the alert new again past the 1 s window"))
    assert again != first
    assert desk.post_alert(body)[1]["alert_id"] == again
    assert import_config(desk.env, desk.data_dir, {"settings": {"webhook": {"dedup_window_s": 30}}}).returncode == 0


# ---- routing outcomes ------------------------------------------------------------------------


def test_an_alert_no_strategy_lists_is_queued_and_listed_as_unrouted_with_the_reason(desk):
    alert_id = accepted(desk.post_alert({**DIALECT_1, "ticker": "ZZZZ", "trade_id": "nobody"}))
    alert = listed_alert(desk, alert_id, "unrouted")
    assert alert["ticker"] == "ZZZZ" and alert["status_reason"]


def test_a_duplicate_is_skipped_with_the_original_id_and_not_listed(desk):
    body = {**DIALECT_1, "trade_id": "dup-1"}
    original = accepted(desk.post_alert(body))
    status, answer, _ = desk.post_alert(body)
    assert status == 200 and answer == {"status": "skipped", "message": "Duplicate alert", "alert_id": original}
    # the strategy in the body is the same content as the strategy in the URL
    named = {**DIALECT_1, "trade_id": "dup-2"}
    first = accepted(desk.post_alert({**named, "strategy": "MomentumStrategy"}))
    status, answer, _ = desk.post_alert(named, "/webhook/MomentumStrategy")
    assert answer["status"] == "skipped" and answer["alert_id"] == first
    # ... but another strategy (or none) is other content
    assert accepted(desk.post_alert(named, "/webhook/Other")) not in (original, first)
    lines_for(desk.ports["aapl"], original)
    alerts = desk.get("/api/alerts?limit=1000")["alerts"]
    assert sum(1 for a in alerts if a["alert_id"] == original) == 1
    assert len({a["alert_id"] for a in alerts}) == len(alerts)
    assert len([line for line in desk.ports["aapl"].lines if line["alert_id"] == original]) == 1


def test_a_body_of_exactly_64_kib_is_accepted_and_one_byte_more_is_413(desk):
    head = json.dumps({"passphrase": PASSPHRASE, **DIALECT_1, "ticker": "ZZZZ", "trade_id": "big", "note": ""})
    padding = 64 * 1024 - len(head.encode())
    body = head[:-2] + "x" * padding + '"}'
    assert len(body.encode()) == 64 * 1024
    accepted(desk.request("POST", "/webhook", body.encode(), headers={"Content-Type": "text/plain"}))
    bigger = body[:-2] + 'y"}'
    assert_error(desk.request("POST", "/webhook", bigger.encode(), headers={"Content-Type": "text/plain"}), 413)
    huge = b'{"a": "' + b"z" * 200_000 + b'"}'
    assert_error(desk.request("POST", "/webhook", huge, headers={"Content-Type": "application/json"}), 413)


# ---- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("body, field", [
    ({**DIALECT_1, "qty": "ten"}, "qty"),
    ({**DIALECT_1, "qty": 0}, "qty"),
    ({**DIALECT_1, "qty": -5}, "qty"),
    ({**DIALECT_3, "quantity": 0}, "quantity"),
    ({**DIALECT_2, "order_contracts": "-1"}, "order_contracts"),
    ({**DIALECT_2, "order_price": "abc"}, "order_price"),
    ({**DIALECT_1, "price": 1e300}, "price"),
    ({**DIALECT_1, "qty": 1e300}, "qty"),
    ({**DIALECT_1, "action": "hold"}, "action"),
    ({**DIALECT_2, "order_action": "short"}, "order_action"),
    ({**DIALECT_3, "action": 5}, "action"),
    ({k: v for k, v in DIALECT_1.items() if k != "ticker"}, "ticker"),
    ({k: v for k, v in DIALECT_3.items() if k != "symbol"}, "symbol"),
    ({k: v for k, v in DIALECT_1.items() if k != "action"}, "action"),
    ({**DIALECT_1, "ticker": 42}, "ticker"),
    ({**DIALECT_1, "time": "yesterday"}, "time"),
    ({**DIALECT_3, "timestamp": "soon"}, "timestamp"),
    # parses, but has no date in US/Eastern: accepted, its port line could never be built
    ({**DIALECT_3, "timestamp": "0001-01-01T03:00:00Z"}, "timestamp"),
])
def test_bad_fields_are_400_keyed_by_the_field_name_as_sent(desk, body, field):
    answer = assert_error(desk.post_alert(body), 400)
    assert field in answer["errors"] and isinstance(answer["errors"][field], str)


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b"null", b'"text"', b"{", b"\xff\xfe{}",
                                 b"[" * 5000 + b"]" * 5000,
                                 ('{"passphrase": "%s", "ticker": "AAPL", "action": "buy", "qty": NaN}'
                                  % PASSPHRASE).encode(),
                                 ('{"passphrase": "%s", "ticker": "AAPL", "action": "buy", "qty": 1e400}'
                                  % PASSPHRASE).encode()])
def test_what_is_not_a_json_alert_is_400_never_5xx(desk, raw):
    for content_type in ("application/json", "text/plain"):
        status, body, headers = desk.request("POST", "/webhook", raw, headers={"Content-Type": content_type})
        assert status == 400, (raw[:40], status, body)
        assert body["status"] == "error" and body["errors"]


def test_passphrase_missing_or_wrong_is_401(desk):
    for passphrase in (None, "wrong", ""):
        body = dict(DIALECT_1) if passphrase is None else {"passphrase": passphrase, **DIALECT_1}
        answer = assert_error(desk.post_alert(body, passphrase=None), 401)
        assert "errors" not in answer or answer["errors"]


def test_an_unknown_strategy_in_the_path_is_404(desk):
    assert_error(desk.post_alert(DIALECT_1, "/webhook/NoSuchStrategy"), 404)


def test_allow_list_and_rate_limit_from_a_live_import(desk):
    """403 when the source is not on the allow-list; 429 with Retry-After over the rate limit; both picked
    up by the running Station from `station config import`, each key left out keeping its value."""
    assert import_config(desk.env, desk.data_dir, {"settings": {"webhook": {"allowlist": ["10.0.0.0/8"]}}}).returncode == 0
    wait_until(lambda: desk.post_alert({**DIALECT_1, "trade_id": "allow"})[0] == 403, timeout=5, what="403")
    assert_error(desk.post_alert({**DIALECT_1, "trade_id": "allow"}), 403)
    assert export_config(desk.env, desk.data_dir)["settings"]["webhook"]["rate_limits"] == []

    assert import_config(desk.env, desk.data_dir,
                         {"settings": {"webhook": {"allowlist": [], "rate_limits": ["3 per minute"]}}}).returncode == 0
    wait_until(lambda: desk.post_alert({**DIALECT_1, "trade_id": "rate"})[0] == 429, timeout=5, what="429")
    answer = assert_error(desk.post_alert({**DIALECT_1, "trade_id": "rate"}), 429)
    retry = desk.post_alert({**DIALECT_1, "trade_id": "rate"})[2]["retry-after"]
    assert retry.isdigit() and 1 <= int(retry) <= 60, answer
    assert import_config(desk.env, desk.data_dir, {"settings": {"webhook": {"rate_limits": []}}}).returncode == 0
    wait_until(lambda: desk.post_alert({**DIALECT_1, "trade_id": "rate-again"})[0] == 200, timeout=5, what="200")


def test_health_and_alert_listing_fields(desk):
    status, health, _ = desk.request("GET", "/health")
    assert status == 200 and health["status"] == "ok"
    alerts = desk.get("/api/alerts")["alerts"]
    assert alerts and len(alerts) <= 100
    for alert in alerts:
        assert {"alert_id", "status", "strategy", "ticker", "action", "qty", "price", "received_at"} <= set(alert)
        assert alert["status"] in ALERT_STATUSES and alert["action"] in ("buy", "sell")
    ids = [a["alert_id"] for a in alerts]
    assert ids == sorted(ids, reverse=True)  # newest first
