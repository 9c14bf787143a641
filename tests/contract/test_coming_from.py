"""README "Coming from…": each system Station replaces, tried from its own example through the contract
(its config imported with `station config import`, its alerts posted as it sends them, its script run as a
subprocess), against one headless Station."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from support.contract import (
    DIALECT_3, PASSPHRASE, TOKEN, LineListener, StationProcess, cli_ok, free_port, import_config, keyring_env,
    wait_until,
)

IB_PORT = free_port()  # nothing listens: orders for IB wait there, visibly
PAIRS_API = {"destinations": {"ib": {"type": "ib", "host": "127.0.0.1", "port": IB_PORT, "client_id": 11}},
             "strategies": {"pairs": {"tickers": {
                 "NMFC-0.72*NASDAQ:ROIC": {"destinations": {"ib": {}}},
                 "CVX-1.85*XOM": {"enabled": False, "destinations": {"ib": {}}},
                 "AAPL": {"destinations": {"ib": {}}}}}}}
PAIRS_API_ALERT = {"ticker": "NMFC-0.72*NASDAQ:ROIC", "order_action": "buy", "order_contracts": 100,
                   "order_price": 1.73, "mar_pos": "long", "mar_pos_size": 100, "pre_mar_pos": "flat",
                   "pre_mar_pos_size": 0, "order_comment": "Enter Long"}
TASTY_SCHWAB = {"destinations": {"tasty": {"type": "paper"}},  # a paper account standing in for Tastytrade here
                "strategies": {
                    "MNQ ema": {"engine": {"kind": "crossover", "timeframe": "5m", "trade_enabled": True,
                                           "line1": {"type": "ema", "period": 2},
                                           "line2": {"type": "ema", "period": 12}},
                                "tickers": {"MNQ": {"destinations": {"tasty": {"qty": 2}}}}},
                    "M2K super": {"engine": {"kind": "supertrend", "timeframe": "1160t", "atr_period": 14,
                                             "multiplier": 2},
                                  "tickers": {"M2K": {"destinations": {"tasty": {"qty": 1}}}}}}}
IBKR = {"destinations": {"ib": {"type": "ib", "host": "127.0.0.1", "port": IB_PORT, "client_id": 7,
                                "account": "DU123456"}},
        "strategies": {"ibkr": {"tickers": {"ES": {"destinations": {"ib": {"multiplier": 1}}}}}}}
WEBSOCKET_SCRIPT = '''
    import socketio

    sio = socketio.Client()

    @sio.on("data_received")
    def on_data(data):
        print("data_received", data["status"], data.get("trades_processed"))
        sio.disconnect()

    sio.connect("{url}")  # was the WebSocket dashboard's http://localhost:5000
    sio.emit("join_script", {{}})
    sio.emit("send_trading_data", {{"trades_csv": "timestamp,symbol,side,quantity,price,profit_loss,strategy\\n"
                                                 "2024-01-04 10:30:00,TSLA,sell,5,240.10,-3.5,Scalper\\n"}})
    sio.wait()
'''


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    root = tmp_path_factory.mktemp("coming-from")
    env = keyring_env(root)
    data_dir = root / "data"
    data_dir.mkdir()
    cli_ok(env, "secret", "set", "webhook-passphrase", input=PASSPHRASE + "\n")
    cli_ok(env, "secret", "set", "api-token", input=TOKEN + "\n")
    assert import_config(env, data_dir, {"settings": {"webhook": {"rate_limits": []}}}).returncode == 0
    ports = [LineListener().start() for _ in range(2)]
    # the 0SPX forwarder's own config.json, ports written as strings as its UI saves them
    zero_spx = {"strategies": {"PO": {"accounts": {}, "tickers": {
        "NQ_Long_5min": {"ports": [str(ports[0].port), str(ports[1].port)]},
        "YM_long_5min": {"ports": [str(free_port())]}}}}}
    for document in (zero_spx, PAIRS_API, TASTY_SCHWAB, IBKR):
        result = import_config(env, data_dir, document)
        assert result.returncode == 0, result.stderr
    station = StationProcess(data_dir, env).start()
    station.cli_env, station.listeners = env, ports
    try:
        yield station
    finally:
        station.kill()
        for listener in ports:
            listener.stop()


def routed_orders(desk, alert_id: int) -> list[dict]:
    wait_until(lambda: any(a["alert_id"] == alert_id and a["status"] == "routed"
                           for a in desk.get("/api/alerts?limit=20")["alerts"]), what=f"alert {alert_id} routed")
    return wait_until(lambda: [o for o in desk.get("/api/orders?limit=50")["orders"] if o["alert_id"] == alert_id],
                      what=f"the orders of alert {alert_id}")


def test_0spx_config_imports_as_it_is_and_its_alerts_reach_its_ports(desk):
    strategy = desk.get("/api/strategies/PO")["strategy"]
    assert strategy["tickers"]["NQ_Long_5min"]["ports"] == [desk.listeners[0].port, desk.listeners[1].port]
    alert = {"ticker": "NQ_Long_5min", "trade_id": "Open_Long_ID_123", "action": "buy", "current_position": "short",
             "qty": 10, "price": 150.25, "time": "2024-01-04T15:30:00Z"}
    status, answer, _ = desk.post_alert(alert)
    assert status == 200 and answer["message"] == "Alert queued"
    for listener in desk.listeners:
        line = wait_until(lambda: listener.lines, what="the line on each port")[0]
        assert (line["ticker"], line["trade_id"], line["qty"], line["position"]) == (
            "NQ_Long_5min", "Open_Long_ID_123", 10, "short")
        assert line["time"] == "2024-01-04T10:30:00-05:00"


def test_0spx_alerts_unchanged_with_the_passphrase_in_the_url(desk):
    body = {"ticker": "NQ_Long_5min", "trade_id": "url-passphrase", "action": "sell", "qty": 10, "price": 151}
    status, answer, _ = desk.post_alert(body, f"/webhook?passphrase={PASSPHRASE.replace(' ', '%20')}",
                                        passphrase=None)
    assert status == 200 and answer["message"] == "Alert queued"
    wait_until(lambda: any(line["trade_id"] == "url-passphrase" for line in desk.listeners[0].lines))


def test_pairs_api_tickers_and_pairs_as_a_station_config(desk):
    tickers = desk.get("/api/strategies/pairs")["strategy"]["tickers"]
    assert set(tickers) == {"NMFC-0.72*NASDAQ:ROIC", "CVX-1.85*XOM", "AAPL"}
    assert tickers["CVX-1.85*XOM"]["enabled"] is False
    status, answer, _ = desk.post_alert(PAIRS_API_ALERT)  # the message as pairs-api receives it
    assert status == 200
    legs = {o["ticker"]: o for o in routed_orders(desk, answer["alert_id"])}
    assert (legs["NMFC"]["action"], legs["NMFC"]["qty"]) == ("buy", 100)
    assert (legs["ROIC"]["action"], legs["ROIC"]["qty"]) == ("sell", 72)  # hedge 0.72 x 100
    assert all(o["destination"] == "ib" for o in legs.values())
    pair = next(p for p in desk.get("/api/pairs")["pairs"] if p["alert_id"] == answer["alert_id"])
    assert (pair["ticker1"], pair["hedge"], pair["ticker2"], pair["order_price"]) == ("NMFC", 0.72, "ROIC", 1.73)


def test_pairs_api_alerts_unchanged_on_its_own_path(desk):
    status, answer, _ = desk.post_alert({**PAIRS_API_ALERT, "order_comment": "v4 path"}, "/v4/webhook")
    assert status == 200
    assert {o["ticker"] for o in routed_orders(desk, answer["alert_id"])} == {"NMFC", "ROIC"}


def test_tasty_schwab_ema_and_supertrend_settings_as_engine_objects(desk):
    engine = desk.get("/api/strategies/MNQ%20ema")["strategy"]["engine"]
    assert (engine["kind"], engine["timeframe"], engine["line1"], engine["line2"]) == (
        "crossover", "5m", {"type": "ema", "period": 2}, {"type": "ema", "period": 12})
    assert desk.get("/api/strategies/M2K%20super")["strategy"]["engine"]["atr_period"] == 14
    out = cli_ok(desk.cli_env, "strategy", "start", "MNQ ema", "--data-dir", str(desk.data_dir))
    assert "started" in out
    wait_until(lambda: desk.get("/api/strategies/MNQ%20ema")["strategy"]["state"] in ("warming_up", "running"), 5,
               what="its 'start trading', from the command line")
    status, body = desk.api("POST", "/api/strategies/M2K%20super/start")
    assert status == 200 and body["state"] in ("warming_up", "running")


def test_ibkr_bot_alerts_unchanged_to_an_ib_destination(desk):
    status, answer, _ = desk.post_alert(DIALECT_3)
    assert status == 200
    (order,) = routed_orders(desk, answer["alert_id"])
    assert (order["destination"], order["ticker"], order["action"], order["qty"]) == ("ib", "ES", "buy", 1)


def test_ibkr_bot_alerts_with_the_passphrase_in_the_url(desk):
    body = {**DIALECT_3, "timestamp": "2023-05-01T12:35:56Z", "price": 4501.0}
    status, answer, _ = desk.post_alert(body, f"/webhook?passphrase={PASSPHRASE.replace(' ', '%20')}",
                                        passphrase=None)
    assert status == 200 and routed_orders(desk, answer["alert_id"])


def test_websocket_dashboard_script_runs_unchanged_but_for_the_address(desk, tmp_path):
    script = tmp_path / "send_trades.py"
    script.write_text(textwrap.dedent(WEBSOCKET_SCRIPT).format(url=desk.url))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "data_received success 1" in result.stdout
    upload = desk.get("/api/trading-data?limit=1")["uploads"][0]
    assert upload["trades"][0]["symbol"] == "TSLA" and json.dumps(upload).count("Scalper") == 1
