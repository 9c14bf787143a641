"""The dashboard's live feed with the python-socketio client: after `join_frontend`, alerts, orders, positions,
PnL, the kill switch and refused webhook requests arrive as lists in the REST API's shapes; nothing is built while no frontend listens."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import socketio

from support.oms import journal, make_alert
from support.wait import until
from station.app import Options, Station
from station.domain.commands import SetKillSwitch

CONFIG = {"destinations": {"paper": {"type": "paper"}},
          "strategies": {"Desk": {"tickers": {"ES": {"point_value": 50, "destinations": {"paper": {"qty": 2}}}}}}}


@pytest.fixture
async def station(data_dir, secrets):
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document(CONFIG)
    await station.start()
    yield station
    await station.stop()


async def frontend(station) -> tuple[socketio.AsyncClient, dict[str, list]]:
    client, seen = socketio.AsyncClient(), {}
    for name in ("alerts", "orders", "positions", "pnl", "kill_switch", "refusals"):
        client.on(name, lambda data, name=name: seen.setdefault(name, []).append(data))
    token = station.rest.token.current_value()
    await client.connect(station.receiver.url, auth={"token": token}, transports=["websocket"])
    joined = asyncio.get_running_loop().create_future()
    client.on("status", lambda data: joined.done() or "frontend" not in data["msg"] or joined.set_result(True))
    await client.emit("join_frontend", {"token": token})
    await asyncio.wait_for(joined, 5)
    return client, seen


async def test_a_joined_frontend_hears_alerts_orders_positions_pnl_and_the_kill_switch(station):
    client, seen = await frontend(station)
    try:
        alert = await journal(station, make_alert("ES", "buy", qty="1", price="5000", strategy="Desk"))
        await until(lambda: any(a["alert_id"] == alert.alert_id and a.get("status") == "routed"
                                for batch in seen.get("alerts", []) for a in batch), what="the alert, routed")
        first = next(a for batch in seen["alerts"] for a in batch if a["alert_id"] == alert.alert_id)
        assert {k: first[k] for k in ("ticker", "action", "qty", "price", "strategy")} == {
            "ticker": "ES", "action": "buy", "qty": 1, "price": 5000, "strategy": "Desk"}
        order = await until(lambda: next((o for batch in seen.get("orders", []) for o in batch
                                          if o["status"] == "filled"), None), what="the filled order")
        assert (order["id"], order["filled_qty"], order["avg_price"]) == (f"a{alert.alert_id}-Desk-paper", 2, 5000)
        positions = await until(lambda: next((b for b in seen.get("positions", []) if b), None), what="positions")
        assert positions[0]["ticker"] == "ES" and positions[0]["qty"] == 2 and positions[0]["point_value"] == 50
        await until(lambda: seen.get("pnl"), what="PnL")
        assert seen["pnl"][-1]["pnl"][0]["strategy"] == "Desk"
        station.bus.publish(SetKillSwitch(True, "feed test"))
        await until(lambda: any(k["engaged"] and k["reason"] == "feed test" for k in seen.get("kill_switch", [])))
    finally:
        await client.disconnect()


async def test_a_refused_webhook_request_arrives_live_as_the_api_lists_it(station):
    client, seen = await frontend(station)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{station.receiver.url}/webhook",
                                 json={"passphrase": "wrong", "ticker": "ES", "action": "buy"}) as answer:
                assert answer.status == 401
        refused = await until(lambda: next((r for batch in seen.get("refusals", []) for r in batch), None),
                              what="the refused request")
        assert (refused["status"], refused["reason"], refused["source"]) == (401, "wrong passphrase", "127.0.0.1")
        assert "wrong" not in refused["body"] and set(refused) == {"time", "source", "status", "reason", "strategy", "body"}
    finally:
        await client.disconnect()


async def test_nothing_is_gathered_while_no_frontend_listens(station):
    feed = next(c for c in station.components if c.name == "dashboard-feed")
    await journal(station, make_alert("ES", "buy", qty="1", price="5000", strategy="Desk"))
    await until(lambda: station.oms.book.position("paper", "ES", "Desk") == 2)
    assert feed._rows == {} and feed._whole == set()
