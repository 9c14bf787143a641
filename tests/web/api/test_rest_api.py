"""The REST API on a real loopback server: auth, collections, end to end alert → paper fill, CRUD, manual, errors."""

import aiohttp
import pytest

from support.oms import journal, make_alert, wait_for
from station.app import Options, Station

CONFIG = {
    "destinations": {"paper": {"type": "paper"}},
    "strategies": {"Momentum": {"tickers": {"ES": {"point_value": 50, "destinations": {"paper": {"qty": 2}}},
                                            "NQ": {"destinations": {"paper": {}}}}}},
}


@pytest.fixture
async def api(data_dir, secrets):
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document(CONFIG)
    await station.start()
    token = secrets.get("api-token").reveal()
    async with aiohttp.ClientSession(base_url=station.receiver.url,
                                     headers={"Authorization": f"Bearer {token}"}) as session:
        session.station = station
        yield session
    await station.stop()


async def call(session, method, path, **kw):
    async with session.request(method, path, **kw) as response:
        return response.status, await response.json()


async def test_token_is_created_at_first_start_and_required(api):
    station = api.station
    assert station.rest.token.created
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        async with aiohttp.ClientSession() as anonymous:
            async with anonymous.get(f"{station.receiver.url}/api/orders", headers=headers) as response:
                assert response.status == 401
                assert (await response.json())["status"] == "error"
    status, body = await call(api, "GET", "/api/orders")
    assert status == 200 and body == {"orders": []}


async def test_alert_to_paper_fill_to_positions_pnl_and_orders(api):
    station = api.station
    alert = await journal(station, make_alert("ES", "buy", qty="1", price="5000"))
    await wait_for(lambda: station.oms.book.position("paper", "ES", "Momentum") == 2)
    await station.oms.recorder.flush()
    status, body = await call(api, "GET", "/api/orders")
    order = body["orders"][0]
    assert status == 200 and {k: order[k] for k in ("id", "alert_id", "destination", "ticker", "action", "qty",
                                                   "status", "filled_qty", "avg_price")} == {
        "id": f"a{alert.alert_id}-Momentum-paper", "alert_id": alert.alert_id, "destination": "paper", "ticker": "ES",
        "action": "buy", "qty": 2, "status": "filled", "filled_qty": 2, "avg_price": 5000}
    _, alerts = await call(api, "GET", "/api/alerts")
    assert alerts["alerts"][0]["status"] == "routed" and alerts["alerts"][0]["action"] == "buy"
    _, fills = await call(api, "GET", "/api/fills")
    assert fills["fills"][0]["order_id"] == order["id"] and fills["fills"][0]["price"] == 5000
    from datetime import datetime, timezone

    from station.domain.events import TickReceived
    from station.domain.marketdata import Tick

    station.bus.publish(TickReceived(Tick("ES", datetime.now(timezone.utc), 5010.0)))
    _, positions = await call(api, "GET", "/api/positions")
    assert positions["positions"][0] | {"updated_at": None} == {
        "destination": "paper", "strategy": "Momentum", "ticker": "ES", "qty": 2, "side": "long", "avg_price": 5000,
        "mark": 5010, "unrealized_pnl": 1000, "realized_pnl": 0, "total_pnl": 1000, "point_value": 50,
        "updated_at": None}
    _, pnl = await call(api, "GET", "/api/pnl")
    assert pnl["pnl"][0]["strategy"] == "Momentum" and pnl["total"]["unrealized_pnl"] == 1000


async def test_collections_are_newest_first_with_a_limit(api):
    station = api.station
    for _ in range(5):
        await journal(station, make_alert("CL"))
    await station.oms.recorder.flush()
    _, body = await call(api, "GET", "/api/alerts?limit=3")
    ids = [a["alert_id"] for a in body["alerts"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    assert body["alerts"][0]["status"] == "unrouted"
    for bad in ("0", "x", "-2"):
        status, error = await call(api, "GET", f"/api/alerts?limit={bad}")
        assert status == 400 and "limit" in error["errors"]
    status, body = await call(api, "GET", "/api/alerts?limit=5000")
    assert status == 200 and len(body["alerts"]) == 5


async def test_strategy_crud_start_stop_and_errors_change_nothing(api):
    station = api.station
    spec = {"name": "Breakout", "tickers": {"AAPL": {"ports": [5001, 5002], "destinations": {"paper": {"multiplier": 2}}}}}
    status, body = await call(api, "POST", "/api/strategies", json=spec)
    assert status == 201 and body["strategy"]["tickers"]["AAPL"]["ports"] == [5001, 5002]
    assert (await call(api, "POST", "/api/strategies", json=spec))[0] == 409
    revision = station.config.revision()
    bad = {"tickers": {"AAPL": {"ports": [70000]}, "MSFT": {"destinations": {"nowhere": {}}}}}
    status, body = await call(api, "PUT", "/api/strategies/Breakout", json=bad)
    assert status == 400 and "strategies.Breakout.tickers.AAPL.ports" in body["errors"]
    assert station.config.revision() == revision  # nothing applied
    status, body = await call(api, "PUT", "/api/strategies/Breakout/tickers/MSFT", json={"destinations": {"paper": {"qty": 5}}})
    assert status == 200 and body["strategy"]["tickers"]["MSFT"]["destinations"]["paper"] == {"qty": 5}
    status, body = await call(api, "PATCH", "/api/strategies/Breakout", json={"name": "Breakout2", "tickers": {"AAPL": None}})
    assert status == 200 and list(body["strategy"]["tickers"]) == ["MSFT"] and body["strategy"]["name"] == "Breakout2"
    status, body = await call(api, "POST", "/api/strategies/Breakout2/stop")
    assert status == 200 and body["enabled"] is False
    assert not station.config.load().strategy("Breakout2").enabled
    assert (await call(api, "POST", "/api/strategies/Breakout2/start"))[1]["enabled"] is True
    assert (await call(api, "DELETE", "/api/strategies/Breakout2"))[0] == 200
    assert (await call(api, "GET", "/api/strategies/Breakout2"))[0] == 404
    assert (await call(api, "POST", "/api/strategies/Nope/start"))[0] == 404
    status, body = await call(api, "POST", "/api/strategies", data="not json")
    assert status == 400 and body["status"] == "error"
    assert (await call(api, "DELETE", "/api/destinations/paper"))[0] == 409  # still used by Momentum
    status, body = await call(api, "POST", "/api/destinations", json={"name": "sim", "type": "ninjatrader-ati"})
    assert status == 400 and "destinations.sim.account" in body["errors"]
    assert (await call(api, "GET", "/api/nothing-here"))[0] == 404


async def test_manual_actions_make_orders_and_say_why_not(api):
    station = api.station
    station.oms.marks.seen("ES", __import__("decimal").Decimal("5000"))
    status, body = await call(api, "POST", "/api/manual/buy", json={"strategy": "Momentum", "ticker": "ES", "click_id": "c1"})
    assert status == 200 and [o["id"] for o in body["orders"]] == ["mc1-Momentum-paper"]
    again = await call(api, "POST", "/api/manual/buy", json={"strategy": "Momentum", "ticker": "ES", "click_id": "c1"})
    assert again[0] == 200 and len(again[1]["orders"]) == 1  # a retried click makes no second order
    await wait_for(lambda: station.oms.book.position("paper", "ES", "Momentum") == 2)
    status, body = await call(api, "POST", "/api/manual", json={"action": "reverse", "strategy": "Momentum", "ticker": "ES"})
    assert status == 200 and body["orders"][0]["action"] == "sell" and body["orders"][0]["qty"] == 4
    await wait_for(lambda: station.oms.book.position("paper", "ES", "Momentum") == -2)
    assert (await call(api, "POST", "/api/manual/close", json={"strategy": "Momentum", "ticker": "NQ"}))[0] == 409
    assert (await call(api, "POST", "/api/manual/sell", json={"strategy": "Nope", "ticker": "ES"}))[0] == 404
    status, body = await call(api, "POST", "/api/manual/sell", json={"strategy": "Momentum", "ticker": "ES", "qty": -1})
    assert status == 400 and "qty" in body["errors"]
    assert (await call(api, "POST", "/api/manual/explode", json={}))[0] == 404
    assert (await call(api, "POST", "/api/manual/0dte_call", json={}))[0] == 409  # no 0DTE strategy: not carried out
    status, body = await call(api, "POST", "/api/manual/flatten", json={})
    assert status == 200
    await wait_for(lambda: station.oms.book.position("paper", "ES", "Momentum") == 0)


async def test_kill_switch_over_rest(api):
    station = api.station
    status, body = await call(api, "POST", "/api/kill-switch", json={"engaged": True, "reason": "test"})
    assert status == 200 and body["engaged"] is True and body["reason"] == "test"
    status, body = await call(api, "POST", "/api/manual/buy", json={"strategy": "Momentum", "ticker": "ES", "qty": 1})
    assert status == 409 and "kill switch" in body["message"]
    assert (await call(api, "POST", "/api/kill-switch", json={"engaged": "yes"}))[0] == 400
    status, body = await call(api, "POST", "/api/kill-switch", json={"engaged": False})
    assert body["engaged"] is False and (await call(api, "GET", "/api/kill-switch"))[1]["engaged"] is False
    assert not station.oms.book.kill_switch_engaged


async def test_protect_a_held_position_over_rest(api):
    from decimal import Decimal

    station = api.station
    assert (await call(api, "POST", "/api/positions/protect", json={"strategy": "Momentum", "ticker": "ES",
                                                                    "stop_loss": 4990}))[0] == 409  # nothing held
    station.oms.marks.seen("ES", Decimal("5000"))
    await call(api, "POST", "/api/manual/buy", json={"strategy": "Momentum", "ticker": "ES"})
    await wait_for(lambda: station.oms.book.position("paper", "ES", "Momentum") == 2)
    for body, field in (({"strategy": "Momentum", "ticker": "ES"}, "stop_loss"),
                        ({"strategy": "Momentum", "ticker": "ES", "stop_loss": 4990, "trailing_stop": {"ticks": 4}},
                         "trailing_stop"),
                        ({"strategy": "Momentum", "ticker": "ES", "take_profit": {"pips": 3}}, "take_profit"),
                        ({"strategy": "Momentum", "ticker": "ES", "stop_loss": -1}, "stop_loss"),
                        ({"strategy": "Momentum", "ticker": "ES", "stop_loss": 4990, "qty": 1}, "qty"),
                        ({"strategy": "Momentum", "ticker": "ES", "stop_loss": 4990, "destination": "ib"},
                         "destination")):
        status, answer = await call(api, "POST", "/api/positions/protect", json=body)
        assert status == 400 and field in answer["errors"], (body, answer)
    status, answer = await call(api, "POST", "/api/positions/protect", json={
        "strategy": "Momentum", "ticker": "ES", "stop_loss": 5001})
    assert status == 409 and answer["message"] == "a stop for a long goes below the market (5000), not at 5001"
    assert not [o for o in station.oms.book.orders.values() if o.request.protective]  # refused: nothing made
    status, answer = await call(api, "POST", "/api/positions/protect", json={
        "strategy": "Momentum", "ticker": "ES", "trailing_stop": {"ticks": 8}, "take_profit": {"points": 10}})
    assert status == 200, answer
    made = {o["role"]: o for o in answer["orders"]}
    assert (made["take_profit"]["limit_price"], made["trailing_stop"]["stop_price"], made["trailing_stop"]["qty"]) == \
        (5010, 4998, 2)
    assert made["take_profit"]["oco_group"] == made["trailing_stop"]["oco_group"] is not None
    assert made["take_profit"]["parent_id"] is None  # no entry: the position was held already
    assert {o["status"] for o in answer["orders"]} <= {"new", "submitted", "working"}  # sent at once, not held
    await wait_for(lambda: {station.oms.book.order(o["id"]).status.value for o in answer["orders"]} == {"working"})
    status, answer = await call(api, "POST", "/api/positions/protect", json={
        "strategy": "Momentum", "ticker": "ES", "destination": "paper", "stop_loss": 4990})
    assert status == 409 and "protected in full" in answer["message"]


async def test_a_future_without_a_point_value_setting_is_marked_in_money_by_the_table(api):
    from decimal import Decimal

    station = api.station
    station.oms.marks.seen("NQ", Decimal("20000"))
    await call(api, "POST", "/api/manual/buy", json={"strategy": "Momentum", "ticker": "NQ", "qty": 1})  # no setting
    await wait_for(lambda: station.oms.book.position("paper", "NQ", "Momentum") == 1)
    from datetime import datetime, timezone

    from station.domain.events import TickReceived
    from station.domain.marketdata import Tick

    station.bus.publish(TickReceived(Tick("NQ", datetime.now(timezone.utc), 20010.0)))
    _, positions = await call(api, "GET", "/api/positions")
    row = positions["positions"][0]
    assert (row["ticker"], row["point_value"], row["unrealized_pnl"]) == ("NQ", 20, 200)  # 10 points × $20


async def raw_answer(port: int, data: bytes) -> tuple[int, dict]:
    """Send raw bytes (what aiohttp's client would not send); the status and the decoded JSON body."""
    import asyncio
    import json

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


async def test_undecodable_tokens_and_unknown_charsets_are_a_json_4xx_never_5xx(api):
    station = api.station
    token = station.rest.token.current_value().encode()
    status, body = await raw_answer(station.receiver.port, b"GET /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                    b"Authorization: Bearer \xff\xfe" + token + b"\r\nConnection: close\r\n\r\n")
    assert status == 401 and body["status"] == "error"
    for path in (b"/api/orders", b"/api/strategies", b"/api/manual/buy", b"/api/kill-switch", b"/api/positions/close"):
        status, body = await raw_answer(station.receiver.port, b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                        b"Authorization: Bearer " + token + b"\r\nConnection: close\r\n"
                                        b"Content-Type: application/json; charset=bogus\r\nContent-Length: 2\r\n\r\n{}")
        assert status == 400 and "charset" in body["message"], (path, body)


async def test_since_with_its_offset_typed_unencoded_in_the_url(api):
    station = api.station
    await journal(station, make_alert("CL"))
    await station.oms.recorder.flush()
    _, body = await call(api, "GET", "/api/alerts")
    received = body["alerts"][0]["received_at"]  # e.g. 2026-01-05T14:30:00.123456+00:00
    assert "+" in received
    for listing in ("alerts", "orders"):  # the + arrives as a space, as a URL's query decodes it
        status, answer = await call(api, "GET", f"/api/{listing}?since={received}")
        assert status == 200, answer
    _, answer = await call(api, "GET", f"/api/alerts?since={received}")
    assert [a["alert_id"] for a in answer["alerts"]] == [body["alerts"][0]["alert_id"]]


async def test_oco_group_is_shared_by_siblings_and_null_for_a_lone_exit(api):
    from decimal import Decimal

    api.station.oms.marks.seen("ES", Decimal("5000"))
    _, lone = await call(api, "POST", "/api/orders", json={"strategy": "Momentum", "ticker": "ES", "action": "buy",
                                                            "order_type": "limit", "limit_price": 4990,
                                                            "stop_loss": {"ticks": 8}})
    _, pair = await call(api, "POST", "/api/orders", json={"strategy": "Momentum", "ticker": "ES", "action": "buy",
                                                            "order_type": "limit", "limit_price": 4980,
                                                            "stop_loss": {"ticks": 8}, "take_profit": {"ticks": 16}})
    _, listed = await call(api, "GET", "/api/orders")
    groups = {o["id"]: o["oco_group"] for o in listed["orders"]}
    assert groups[lone["orders"][0]] is None and groups[lone["orders"][1]] is None  # an entry; a stop alone
    sl, tp = pair["orders"][1:]
    assert groups[sl] == groups[tp] is not None and groups[pair["orders"][0]] is None
    _, one = await call(api, "DELETE", f"/api/orders/{lone['orders'][1]}")
    assert one["order"]["oco_group"] is None
