"""CONTRACT.md "REST API and scripts" (the API part), from outside: one headless Station."""

from __future__ import annotations

import csv
import json
import threading

import pytest

from support.contract import (
    DIALECT_1,
    PASSPHRASE,
    TOKEN,
    StationProcess,
    cli,
    cli_ok,
    import_config,
    keyring_env,
    request,
    wait_until,
)

COLLECTIONS = ("alerts", "orders", "fills", "positions", "pnl")
ORDER_STATUSES = {"new", "submitted", "working", "partially_filled", "filled", "cancelled", "rejected"}


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    root = tmp_path_factory.mktemp("contract-rest")
    env = keyring_env(root)
    data_dir = root / "data"
    data_dir.mkdir()
    config = {
        "destinations": {"paper": {"type": "paper"}},
        "strategies": {"Alpha": {"tickers": {"ES": {"destinations": {"paper": {"qty": 1}}}}},
                       "Beta": {"tickers": {"NQ": {"destinations": {"paper": {}}}}}},
        "settings": {"webhook": {"rate_limits": [], "failed_passphrase_limits": []}},
    }
    cli_ok(env, "secret", "set", "webhook-passphrase", input=PASSPHRASE + "\n")
    cli_ok(env, "secret", "set", "api-token", input=TOKEN + "\n")
    assert import_config(env, data_dir, config).returncode == 0
    station = StationProcess(data_dir, env).start()
    try:
        yield station
    finally:
        station.kill()


def queued(desk, body: dict, path: str = "/webhook") -> int:
    status, answer, _ = desk.post_alert(body, path)
    assert status == 200 and answer["status"] == "success", answer
    return answer["alert_id"]


def alert_row(desk, alert_id: int, status: str) -> dict:
    return wait_until(lambda: next((a for a in desk.get("/api/alerts?limit=1000")["alerts"]
                                    if a["alert_id"] == alert_id and a["status"] == status), None),
                      what=f"alert {alert_id} {status}")


def position(desk, strategy: str, ticker: str):
    for row in desk.get("/api/positions")["positions"]:
        if row["strategy"] == strategy and row["ticker"] == ticker:
            return row["qty"]
    return 0


@pytest.mark.parametrize("path", [f"/api/{name}" for name in COLLECTIONS] + ["/api/strategies", "/api/kill-switch"])
def test_the_api_needs_the_bearer_token(desk, path):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": "Bearer"}, {"Authorization": f"Bearer {TOKEN}x"}):
        status, body, got = request(desk.port, "GET", path, headers=headers)
        assert status == 401 and body["status"] == "error", (path, headers, body)
        assert got["content-type"].startswith("application/json")
    status, body, _ = request(desk.port, "POST", "/api/strategies", {"name": "Sneaky"})
    assert status == 401
    assert "Sneaky" not in json.dumps(desk.get("/api/strategies"))
    assert desk.api("GET", path)[0] == 200


def test_collections_newest_first_limit_default_100_at_most_1000(desk):
    def send(first: int, count: int) -> None:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", desk.port, timeout=10)
        try:
            for n in range(first, first + count):
                body = json.dumps({"passphrase": PASSPHRASE, "ticker": "UNLISTED", "action": "sell", "qty": 1,
                                   "trade_id": f"bulk-{n}"})
                conn.request("POST", "/webhook", body, {"Content-Type": "text/plain"})
                response = conn.getresponse()
                assert response.status == 200, response.read()
                response.read()
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(n * 126, 126)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    alerts = desk.get("/api/alerts")["alerts"]
    assert len(alerts) == 100
    ids = [a["alert_id"] for a in alerts]
    assert ids == sorted(ids, reverse=True)
    assert len(desk.get("/api/alerts?limit=1000")["alerts"]) == 1000
    assert len(desk.get("/api/alerts?limit=5000")["alerts"]) == 1000
    assert [a["alert_id"] for a in desk.get("/api/alerts?limit=3")["alerts"]] == ids[:3]
    for bad in ("abc", "0", "-1", "1.5"):
        status, body = desk.api("GET", f"/api/alerts?limit={bad}")
        assert status == 400 and body["status"] == "error", bad
    for name in COLLECTIONS:
        answer = desk.get(f"/api/{name}?limit=2")
        assert isinstance(answer[name], list) and len(answer[name]) <= 2
    alert = alerts[0]
    assert {"alert_id", "status", "strategy", "ticker", "action", "qty", "price", "received_at"} <= set(alert)
    assert alert["action"] == "sell" and alert["status"] in ("queued", "unrouted")


def test_strategies_create_read_update_delete_and_start_stop(desk):
    spec = {"name": "Gamma", "tickers": {"RTY": {"ports": [], "destinations": {"paper": {"qty": 3}}}}}
    status, body = desk.api("POST", "/api/strategies", spec)
    assert status == 201, body
    # its webhook URL works at once
    alert_row(desk, queued(desk, {"ticker": "RTY", "action": "buy", "qty": 1, "price": 1999, "trade_id": "gamma-0"},
                           "/webhook/Gamma"), "routed")
    assert desk.api("POST", "/api/strategies", spec)[0] == 409
    names = [s["name"] for s in desk.get("/api/strategies")["strategies"]]
    assert {"Alpha", "Beta", "Gamma"} <= set(names)
    gamma = desk.get("/api/strategies/Gamma")["strategy"]
    assert gamma["tickers"]["RTY"]["destinations"]["paper"]["qty"] == 3

    status, body = desk.api("PUT", "/api/strategies/Gamma",
                            {"tickers": {"RTY": {"destinations": {"paper": {"multiplier": 2}}}}})
    assert status == 200, body
    alert_id = queued(desk, {"ticker": "RTY", "action": "buy", "qty": 2, "price": 2000, "trade_id": "gamma-1"})
    alert_row(desk, alert_id, "routed")
    order = wait_until(lambda: next((o for o in desk.get("/api/orders")["orders"] if o["alert_id"] == alert_id
                                     and o["status"] == "filled"), None), what="Gamma's order filled")
    assert order["qty"] == 4 and order["destination"] == "paper"

    status, body = desk.api("POST", "/api/strategies/Gamma/stop")
    assert status == 200 and body["enabled"] is False
    stopped = queued(desk, {"ticker": "RTY", "action": "sell", "qty": 2, "price": 2001, "trade_id": "gamma-2"},
                     "/webhook/Gamma")
    assert alert_row(desk, stopped, "unrouted")["status_reason"]
    status, body = desk.api("POST", "/api/strategies/Gamma/start")
    assert status == 200 and body["enabled"] is True
    alert_row(desk, queued(desk, {"ticker": "RTY", "action": "sell", "qty": 2, "price": 2002, "trade_id": "gamma-3"},
                           "/webhook/Gamma"), "routed")

    status, body = desk.api("PATCH", "/api/strategies/Gamma", {"tickers": {"M2K": {"ports": [5999]}}})
    assert status == 200 and set(body["strategy"]["tickers"]) == {"RTY", "M2K"}
    status, body = desk.api("PUT", "/api/strategies/Gamma", {"tickers": {"RTY": {"ports": [70000]}}})
    assert status == 400 and body["errors"]
    assert set(desk.get("/api/strategies/Gamma")["strategy"]["tickers"]) == {"RTY", "M2K"}  # nothing applied
    assert desk.api("DELETE", "/api/strategies/Gamma")[0] == 200
    assert desk.api("GET", "/api/strategies/Gamma")[0] == 404
    assert desk.api("POST", "/api/strategies/Gamma/start")[0] == 404


def test_manual_actions_and_the_kill_switch(desk):
    queued(desk, {"ticker": "ES", "action": "buy", "qty": 1, "price": 5000, "trade_id": "mark-es"})
    wait_until(lambda: position(desk, "Alpha", "ES") == 1, what="ES long 1")
    status, body = desk.api("POST", "/api/manual/buy", {"strategy": "Alpha", "ticker": "ES", "click_id": "b1"})
    assert status == 200 and len(body["orders"]) == 1 and body["orders"][0]["action"] == "buy", body
    assert desk.api("POST", "/api/manual/buy", {"strategy": "Alpha", "ticker": "ES", "click_id": "b1"})[0] == 200
    wait_until(lambda: position(desk, "Alpha", "ES") == 2, what="ES long 2")
    assert desk.api("POST", "/api/manual/reverse", {"strategy": "Alpha", "ticker": "ES"})[0] == 200
    wait_until(lambda: position(desk, "Alpha", "ES") == -2, what="ES reversed")
    assert desk.api("POST", "/api/manual/close", {"strategy": "Alpha", "ticker": "ES"})[0] == 200
    wait_until(lambda: position(desk, "Alpha", "ES") == 0, what="ES closed")
    assert desk.api("POST", "/api/manual/sell", {"strategy": "Alpha", "ticker": "ES"})[0] == 200
    wait_until(lambda: position(desk, "Alpha", "ES") == -1, what="ES short 1 (the destination's fixed qty)")
    assert desk.api("POST", "/api/manual/flatten", {})[0] == 200
    wait_until(lambda: position(desk, "Alpha", "ES") == 0, what="flattened")
    status, body = desk.api("POST", "/api/manual/0dte_call", {})
    assert status == 409 and "0DTE" in body["message"]  # no 0DTE strategy configured: not carried out, and why
    assert desk.api("POST", "/api/manual/sell", {"strategy": "Alpha", "ticker": "ES", "qty": -1})[0] == 400

    assert desk.api("POST", "/api/manual/buy", {"strategy": "Alpha", "ticker": "ES"})[0] == 200
    wait_until(lambda: position(desk, "Alpha", "ES") == 1, what="ES long again")
    status, body = desk.api("POST", "/api/kill-switch", {"engaged": True, "reason": "contract test"})
    assert status == 200 and body["engaged"] is True
    wait_until(lambda: position(desk, "Alpha", "ES") == 0, what="the kill switch flattens")
    assert desk.get("/api/kill-switch")["engaged"] is True
    halted = queued(desk, {"ticker": "ES", "action": "buy", "qty": 1, "price": 5001, "trade_id": "halted"})
    assert "kill switch" in alert_row(desk, halted, "rejected")["status_reason"]
    assert desk.api("POST", "/api/manual/buy", {"strategy": "Alpha", "ticker": "ES"})[0] == 409
    status, body = desk.api("POST", "/api/kill-switch", {"engaged": False})
    assert status == 200 and body["engaged"] is False
    alert_row(desk, queued(desk, {"ticker": "ES", "action": "buy", "qty": 1, "price": 5002, "trade_id": "rearmed"}),
              "routed")
    for order in desk.get("/api/orders")["orders"]:
        assert order["status"] in ORDER_STATUSES and order["action"] in ("buy", "sell")
    ids = [f["fill_id"] for f in desk.get("/api/fills")["fills"]]
    assert ids
    pnl = desk.get("/api/pnl")["pnl"]
    assert any(row["strategy"] == "Alpha" for row in pnl)


def test_every_collection_is_newest_first(desk):
    orders = desk.get("/api/orders")["orders"]
    assert [o["created_at"] for o in orders] == sorted((o["created_at"] for o in orders), reverse=True)
    fills = desk.get("/api/fills")["fills"]
    assert fills and [f["time"] for f in fills] == sorted((f["time"] for f in fills), reverse=True)
    for name in ("positions", "pnl"):
        rows = desk.get(f"/api/{name}")[name]
        assert rows and [r["updated_at"] for r in rows] == sorted((r["updated_at"] for r in rows), reverse=True)


def test_analyze_writes_the_csv_files_and_the_html_page(desk, tmp_path):
    out = tmp_path / "report"
    result = cli(desk.env, "analyze", "--out", str(out), "--data-dir", str(desk.data_dir))
    assert result.returncode == 0, result.stderr
    html = sorted(out.glob("*.html"))
    assert html and "<html" in html[0].read_text().lower()
    assert str(html[0]) in result.stdout
    with open(out / "alerts.csv", newline="") as handle:
        alerts = list(csv.DictReader(handle))
    listed = desk.get("/api/alerts?limit=1000")["alerts"]
    assert {int(a["alert_id"]) for a in alerts} >= {a["alert_id"] for a in listed}
    with open(out / "fills.csv", newline="") as handle:
        assert {row["fill_id"] for row in csv.DictReader(handle)} >= {f["fill_id"] for f in desk.get("/api/fills")["fills"]}

    later = tmp_path / "later"
    result = cli(desk.env, "analyze", "--since", "2999-01-01", "--out", str(later), "--data-dir", str(desk.data_dir))
    assert result.returncode == 0, result.stderr
    with open(later / "alerts.csv", newline="") as handle:
        assert list(csv.DictReader(handle)) == []
