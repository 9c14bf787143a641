"""Refused webhook requests are recorded (CONTRACT.md "TradingView webhook"): every 4xx, the body's start without
the passphrase, newest 10,000, no alert and no alert id; one WARNING per source and reason a minute, no secret in it;
`GET /api/refusals` lists them. Also the passphrase in the URL query and `POST /v4/webhook`."""

import json
import logging
from datetime import timedelta
from urllib.parse import quote

import aiohttp
import pytest

from support.wait import until
from support.webhook import DIALECT_1, DIALECT_3, PASSPHRASE, post, rows, running_station
from station.domain.refusals import KEPT, Refusal
from station.domain.timeutil import utc_now
from station.store.refusals_repo import RefusalRepository, record_refusal

TOKEN = "refusals-api-token"


def stored(station) -> list[dict]:
    return [dict(r) for r in station.store.query("SELECT * FROM webhook_refusals ORDER BY seq")]


async def recorded(station, count: int) -> list[dict]:
    return await until(lambda: len(stored(station)) >= count and stored(station), what=f"{count} refusals recorded")


@pytest.fixture
async def live(data_dir, secrets):
    secrets.set("api-token", TOKEN)
    async with running_station(data_dir, secrets, {"failed_passphrase_limits": []}) as station:
        yield station


async def test_every_kind_of_4xx_is_recorded_and_makes_no_alert(live):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{live.receiver.url}/webhook") as response:
            assert response.status == 405
    assert (await post(live, b"not json"))[0] == 400
    assert (await post(live, {**DIALECT_1, "qty": 0}))[0] == 400
    assert (await post(live, DIALECT_1, passphrase="wrong one"))[0] == 401
    assert (await post(live, DIALECT_1, passphrase=None))[0] == 401
    assert (await post(live, DIALECT_1, path="/webhook/NoSuchStrategy"))[0] == 404
    assert (await post(live, b"x" * (64 * 1024 + 1)))[0] == 413
    table = await recorded(live, 7)
    assert [r["status"] for r in table] == [405, 400, 400, 401, 401, 404, 413]
    assert table[5]["strategy"] == "NoSuchStrategy" and all(r["strategy"] is None for r in table[:5])
    assert {r["source"] for r in table} == {"127.0.0.1"}
    assert table[3]["reason"] == "wrong passphrase" and "missing passphrase" in table[4]["reason"]
    assert "qty" in table[2]["reason"] and table[1]["body"] == "not json"
    assert len(table[6]["body"].encode()) == 512
    assert rows(live) == []
    status, body, _ = await post(live, DIALECT_1)  # the first alert still gets the first id
    assert status == 200 and body["alert_id"] == 1


async def test_the_kept_body_has_no_passphrase_in_any_form(live):
    query_secret = "query/secret value+1"
    bodies = [
        json.dumps({"passphrase": PASSPHRASE, **DIALECT_1, "qty": -1}).encode(),  # the right one, a bad field
        b'{"pass\\u0070hrase": "wr\\u006fng\\/pass", "ticker": "AAPL", "action": "buy", "qty": 0}',  # escaped
        json.dumps({"passphrase": PASSPHRASE, "ticker": "AAPL"})[:40].encode(),  # cut off inside the value
        f"passphrase={quote(PASSPHRASE)}&ticker=AAPL".encode(),  # form-encoded
        json.dumps({**DIALECT_1, "qty": 0, "comment": quote(query_secret, safe="")}).encode(),
    ]
    for body in bodies[:-1]:
        assert (await post(live, body))[0] in (400, 401)
    assert (await post(live, bodies[-1], path=f"/webhook?passphrase={quote(query_secret, safe='')}"))[0] == 401
    table = await recorded(live, len(bodies))
    kept = "\n".join(r["body"] for r in table)
    for secret in (PASSPHRASE, quote(PASSPHRASE), "wrong/pass", "wr\\u006fng", query_secret,
                   quote(query_secret, safe=""), "correct horse"):
        assert secret not in kept, secret
    assert '"ticker": "AAPL"' in table[0]["body"] and "***" in table[0]["body"]
    assert table[3]["body"] == "passphrase=***&ticker=AAPL"


async def test_a_passphrase_crossing_the_512_byte_cut_of_a_too_large_body_leaves_no_prefix(live):
    head = b'{"note": "' + b"a" * 495  # the passphrase starts 7 bytes before the cut
    body = head + PASSPHRASE.encode() + b'", "pad": "' + b"b" * (70 * 1024) + b'"}'
    assert (await post(live, body))[0] == 413
    [refusal] = await recorded(live, 1)
    assert refusal["body"].startswith(head.decode()) and len(refusal["body"].encode()) <= 512
    assert PASSPHRASE[:7] not in refusal["body"], refusal["body"][-20:]


async def test_refusals_are_logged_once_per_source_and_reason_a_minute_without_secrets(live, caplog):
    caplog.set_level(logging.WARNING, logger="station.web")
    offered = "a-wrong-passphrase-9"
    for _ in range(5):
        assert (await post(live, DIALECT_1, passphrase=offered))[0] == 401
    assert (await post(live, DIALECT_1, path="/webhook/Nope"))[0] == 404
    for _ in range(3):
        assert (await post(live, {**DIALECT_1, "qty": 0}))[0] == 400
    await recorded(live, 9)
    lines = [r.getMessage() for r in caplog.records if "webhook refused" in r.getMessage()]
    assert len(lines) == 3, lines
    assert "401 wrong passphrase" in lines[0] and "127.0.0.1" in lines[0]
    assert "404" in lines[1] and "'Nope'" in lines[1] and "400 invalid alert" in lines[2]
    assert not any(offered in line or PASSPHRASE in line for line in caplog.text.splitlines())


async def test_a_refused_request_publishes_an_event_and_the_api_lists_it(live):
    from station.domain.events import RequestRefused

    seen = []
    live.bus.subscribe(RequestRefused, seen.append)
    assert (await post(live, DIALECT_1, passphrase="nope"))[0] == 401
    assert (await post(live, DIALECT_1, path="/webhook/Other"))[0] == 404
    await recorded(live, 2)
    assert [e.refusal.status for e in seen] == [401, 404]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{live.receiver.url}/api/refusals", headers=headers) as response:
            listed = (await response.json())["refusals"]
        async with session.get(f"{live.receiver.url}/api/refusals?limit=1", headers=headers) as response:
            one = (await response.json())["refusals"]
        since = (utc_now() + timedelta(hours=1)).isoformat()
        async with session.get(f"{live.receiver.url}/api/refusals", params={"since": since}, headers=headers) as r:
            later = (await r.json())["refusals"]
        async with session.get(f"{live.receiver.url}/api/refusals?since=yesterday", headers=headers) as response:
            bad_since = response.status
        async with session.get(f"{live.receiver.url}/api/refusals") as response:
            unauthorised = response.status
    assert [r["status"] for r in listed] == [404, 401] and set(listed[0]) == {
        "time", "source", "status", "reason", "strategy", "body"}
    assert listed[0]["strategy"] == "Other" and listed[1]["reason"] == "wrong passphrase"
    assert "nope" not in listed[1]["body"] and len(one) == 1 and later == []
    assert bad_since == 400 and unauthorised == 401


async def test_the_api_lists_a_refusal_as_soon_as_it_is_answered(live):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        for n in range(5):
            assert (await post(live, {**DIALECT_1, "qty": 0, "trade_id": f"at-once-{n}"}))[0] == 400
            async with session.get(f"{live.receiver.url}/api/refusals?limit=1", headers=headers) as response:
                listed = (await response.json())["refusals"]
            assert listed and f"at-once-{n}" in listed[0]["body"], (n, listed)


async def test_since_without_a_zone_is_us_eastern_as_for_alerts_and_orders(live):
    from station.domain.timeutil import EASTERN

    assert (await post(live, {**DIALECT_1, "qty": 0}))[0] == 400
    eastern_now = utc_now().astimezone(EASTERN).replace(tzinfo=None)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        listed = {}
        for label, minutes in (("before", -1), ("after", 1)):
            since = (eastern_now + timedelta(minutes=minutes)).isoformat()
            async with session.get(f"{live.receiver.url}/api/refusals", params={"since": since}, headers=headers) as r:
                listed[label] = (await r.json())["refusals"]
    assert len(listed["before"]) == 1 and listed["after"] == []


def test_only_the_newest_10000_are_kept(data_dir):
    from station.store import Store

    store = Store(data_dir)
    try:
        now = utc_now()

        def many(conn):
            for i in range(KEPT + 25):
                record_refusal(conn, Refusal(now, "198.51.100.7", 429, f"rate limit exceeded #{i}", None, ""))

        store.writer.call(many)
        count = store.query("SELECT count(*) AS n FROM webhook_refusals")[0]["n"]
        newest = RefusalRepository(store).latest_refusals(2)
    finally:
        store.close()
    assert count == KEPT
    assert [r.reason for r in newest] == [f"rate limit exceeded #{KEPT + 24}", f"rate limit exceeded #{KEPT + 23}"]


# ---- the passphrase in the URL query, /v4/webhook ------------------------------------------------------


async def test_the_passphrase_may_travel_in_the_url_query(live):
    query = f"?passphrase={quote(PASSPHRASE, safe='')}"
    assert (await post(live, DIALECT_1, passphrase=None, path=f"/webhook{query}"))[0] == 200
    assert (await post(live, {**DIALECT_3, "symbol": "TSLA"}, passphrase=None,
                       path=f"/webhook/MomentumStrategy{query}"))[0] == 200
    assert (await post(live, {**DIALECT_1, "trade_id": "x2"}, passphrase=None,
                       path="/webhook?passphrase=wrong"))[0] == 401


async def test_with_both_the_bodys_passphrase_is_judged(live):
    right = f"?passphrase={quote(PASSPHRASE, safe='')}"
    assert (await post(live, DIALECT_1, passphrase="wrong", path=f"/webhook{right}"))[0] == 401
    assert (await post(live, DIALECT_1, path="/webhook?passphrase=wrong"))[0] == 200


async def test_v4_webhook_is_the_same_endpoint(live):
    status, body, _ = await post(live, DIALECT_1, path="/v4/webhook")
    assert status == 200 and body["message"] == "Alert queued"
    assert (await post(live, {**DIALECT_3, "symbol": "TSLA"}, path="/v4/webhook/MomentumStrategy"))[0] == 200
    assert (await post(live, DIALECT_1, path="/v4/webhook"))[1]["message"] == "Duplicate alert"
    assert [r["ticker"] for r in rows(live)] == ["AAPL", "TSLA"]
    assert rows(live)[1]["strategy"] == "MomentumStrategy"


# ---- TradingView symbols reach the strategies listing their plain names -------------------------------

SYMBOLS_CONFIG = {"destinations": {"paper": {"type": "paper"}}, "strategies": {
    "Futures": {"accounts": {}, "tickers": {"ES": {"destinations": {"paper": {"qty": 1}}}}},
    "Stocks": {"accounts": {}, "tickers": {"AAPL": {"destinations": {"paper": {"qty": 1}}}}}}}


async def test_exchange_prefixes_and_continuous_futures_reach_the_listed_ticker(data_dir, secrets):
    async with running_station(data_dir, secrets, config=SYMBOLS_CONFIG) as station:
        for ticker in ("CME_MINI:ES1!", "NASDAQ:AAPL", "ES1!", "NYSE:IBM"):
            assert (await post(station, {**DIALECT_3, "symbol": ticker, "price": 100}))[0] == 200
        decided = await until(lambda: all(r["status"] != "queued" for r in rows(station)) and rows(station),
                              what="all four alerts decided")
        orders = [dict(r) for r in station.store.query("SELECT strategy, ticker FROM orders ORDER BY created_at")]
    assert [(r["ticker"], r["status"]) for r in decided] == [
        ("CME_MINI:ES1!", "routed"), ("NASDAQ:AAPL", "routed"), ("ES1!", "routed"), ("NYSE:IBM", "unrouted")]
    assert sorted((o["strategy"], o["ticker"]) for o in orders) == [("Futures", "ES"), ("Futures", "ES"),
                                                                     ("Stocks", "AAPL")]


async def test_refusals_before_the_body_is_read_are_recorded_too(data_dir, secrets):
    async with running_station(data_dir, secrets, {"allowlist": ["10.9.8.7"]}) as station:
        assert (await post(station, DIALECT_1))[0] == 403
        table = await recorded(station, 1)
    assert table[0]["status"] == 403 and "allow-list" in table[0]["reason"]
    # the body's start is kept as for any refusal (what came with the headers; its passphrase taken out)
    assert PASSPHRASE not in table[0]["body"] and '"ticker": "AAPL"' in table[0]["body"]
    async with running_station(data_dir, secrets, {"allowlist": [], "rate_limits": ["1 per minute"]}) as station:
        assert (await post(station, DIALECT_1))[0] == 200
        assert (await post(station, {**DIALECT_1, "trade_id": "second"}))[0] == 429
        table = await recorded(station, 2)
    assert table[-1]["status"] == 429 and table[-1]["reason"].startswith("rate limit exceeded")
    assert PASSPHRASE not in table[-1]["body"] and '"trade_id": "second"' in table[-1]["body"]


def test_the_kept_body_is_cut_at_512_bytes_between_characters():
    from station.web.tradingview.redact import redact_body

    body = ('{"passphrase": "p4ss-word", "comment": "' + "é" * 600 + '"}').encode()
    kept = redact_body(body, ["p4ss-word"])
    assert len(kept.encode()) <= 512 and kept.startswith('{"passphrase": "***", "comment": "éé') and "p4ss" not in kept
    assert redact_body(b'{"a": {"passphrase": "nested-1"}, "b": "nested-1"}') == '{"a": {"passphrase": "***"}, "b": "***"}'
    assert redact_body(b"\xff\xfe junk") == "\ufffd\ufffd junk"
