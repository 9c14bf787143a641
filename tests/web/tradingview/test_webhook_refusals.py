"""Every refusal row of the contract's table, over real HTTP: 400, 401, 403, 404, 413, 429 — and no row left."""

import asyncio
import json

import aiohttp
import pytest

from support.webhook import DIALECT_1, DIALECT_2, DIALECT_3, PASSPHRASE, post, rows, running_station


@pytest.fixture
async def live(data_dir, secrets):
    async with running_station(data_dir, secrets, {"failed_passphrase_limits": []}) as station:
        yield station


def assert_error(status, body, expected_status, *fields):
    assert status == expected_status, body
    assert body["status"] == "error" and isinstance(body["message"], str) and body["message"]
    for field in fields:
        assert field in body["errors"], body


P = json.dumps(PASSPHRASE)
BAD_BODIES = [
    (b"not json", "body"), (b"", "body"), (b"\xff\xfe\xfd", "body"), (b"[]", "body"), (b"[" + P.encode() + b"]", "body"),
    (b"null", "body"), (b"42", "body"), (b'"buy"', "body"), (b"[" * 10000 + b"]" * 10000, "body"),
    (b'{"passphrase": ' + P.encode() + b', "ticker": "AAPL", "action": "buy"', "body"),  # truncated
]
BAD_FIELDS = [
    ({**DIALECT_1, "qty": 0}, "qty"), ({**DIALECT_1, "qty": -5}, "qty"), ({**DIALECT_2, "order_contracts": "0"}, "order_contracts"),
    ({**DIALECT_3, "quantity": -1}, "quantity"), ({**DIALECT_1, "qty": "ten"}, "qty"), ({**DIALECT_1, "qty": True}, "qty"),
    ({**DIALECT_1, "qty": {"n": 1}}, "qty"), ({**DIALECT_1, "price": "NaN"}, "price"), ({**DIALECT_1, "qty": 1e300}, "qty"),
    ({**DIALECT_2, "order_price": "-Infinity"}, "order_price"), ({**DIALECT_1, "action": "hold"}, "action"),
    ({**DIALECT_2, "order_action": "flip"}, "order_action"), ({**DIALECT_3, "action": None}, "action"),
    ({**DIALECT_1, "ticker": ["AAPL"]}, "ticker"), ({**DIALECT_1, "time": "noon"}, "time"),
    ({k: v for k, v in DIALECT_1.items() if k != "ticker"}, "ticker"),
    ({k: v for k, v in DIALECT_3.items() if k != "action"}, "action"),
    ({k: v for k, v in DIALECT_2.items() if k != "order_action"}, "order_action"),
]


@pytest.mark.parametrize("raw,field", BAD_BODIES)
async def test_bodies_that_are_not_a_json_object_get_400(live, raw, field):
    status, body, _ = await post(live, raw)
    assert_error(status, body, 400, field)
    assert rows(live) == []


@pytest.mark.parametrize("payload,field", BAD_FIELDS)
async def test_wrong_types_missing_fields_and_out_of_range_values_get_400_keyed_by_field(live, payload, field):
    status, body, _ = await post(live, payload)
    assert_error(status, body, 400, field)
    assert rows(live) == []


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"1" + b"0" * 5000])
async def test_non_finite_and_huge_number_literals_get_400(live, literal):
    raw = b'{"passphrase": %s, "ticker": "AAPL", "action": "buy", "qty": %s}' % (P.encode(), literal)
    status, body, _ = await post(live, raw)
    assert_error(status, body, 400, "qty")
    raw = b'{"passphrase": %s, "ticker": "AAPL", "action": "buy", "note": %s}' % (P.encode(), literal)
    status, body, _ = await post(live, raw)
    assert_error(status, body, 400, "note")
    assert rows(live) == []


@pytest.mark.parametrize("passphrase", [None, "", "wrong", PASSPHRASE.upper(), PASSPHRASE + " ", 12345, ["x"], {"p": 1}])
async def test_a_wrong_or_missing_passphrase_gets_401(live, passphrase):
    body = dict(DIALECT_1) if passphrase is None else {"passphrase": passphrase, **DIALECT_1}
    status, answer, _ = await post(live, body, passphrase=None)
    assert_error(status, answer, 401)
    assert rows(live) == []


async def test_the_passphrase_is_checked_before_fields_are_judged(live):
    status, body, _ = await post(live, {"passphrase": "wrong", "qty": -1}, passphrase=None)
    assert status == 401 and "errors" not in body


async def test_an_unknown_strategy_in_the_path_gets_404(live):
    status, body, _ = await post(live, DIALECT_1, path="/webhook/NoSuchStrategy")
    assert_error(status, body, 404)
    assert "NoSuchStrategy" in body["message"] and rows(live) == []


async def test_a_body_over_64_kib_gets_413(live):
    filler = "x" * (64 * 1024)
    status, body, _ = await post(live, {**DIALECT_1, "note": filler})
    assert_error(status, body, 413)

    async def chunked():
        yield b'{"passphrase": ' + P.encode() + b', "note": "'
        for _ in range(80):
            yield b"y" * 1024
        yield b'"}'

    async with aiohttp.ClientSession() as session:
        async with session.post(f"{live.receiver.url}/webhook", data=chunked()) as response:
            assert response.status == 413 and (await response.json())["status"] == "error"
    assert rows(live) == []


async def test_a_body_of_exactly_64_kib_is_read(live):
    raw = json.dumps({"passphrase": PASSPHRASE, **DIALECT_1, "note": ""}).encode()
    raw = raw[:-2] + b"z" * (64 * 1024 - len(raw)) + b'"}'
    assert len(raw) == 64 * 1024
    status, body, _ = await post(live, raw)
    assert status == 200 and body["status"] == "success"


async def test_over_the_rate_limit_gets_429_with_retry_after(data_dir, secrets):
    async with running_station(data_dir, secrets, {"rate_limits": ["3 per minute"]}) as station:
        answers = [await post(station, {**DIALECT_1, "trade_id": f"t{i}"}) for i in range(4)]
        assert [a[0] for a in answers] == [200, 200, 200, 429]
        status, body, headers = answers[3]
        assert_error(status, body, 429)
        assert int(headers["Retry-After"]) == 20
        assert len(rows(station)) == 3


async def test_the_0spx_preset_and_no_limit(data_dir, secrets):
    async with running_station(data_dir, secrets, {"rate_limits": ["50 per hour", "200 per day"]}) as station:
        statuses = [(await post(station, {**DIALECT_1, "trade_id": f"t{i}"}))[0] for i in range(51)]
        assert statuses == [200] * 50 + [429]
    async with running_station(data_dir, secrets, {"rate_limits": []}) as station:
        async with aiohttp.ClientSession() as session:
            answers = await asyncio.gather(*(post(station, {**DIALECT_1, "trade_id": f"u{i}"}, session=session)
                                             for i in range(300)))
        assert {a[0] for a in answers} == {200}


async def test_the_default_limit_never_throttles_a_burst_of_real_alerts(live):
    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(*(post(live, {**DIALECT_1, "trade_id": f"t{i}"}, session=session)
                                         for i in range(40)))
    assert {a[0] for a in answers} == {200}


async def test_repeated_wrong_passphrases_block_the_address_hard(data_dir, secrets):
    async with running_station(data_dir, secrets, {"failed_passphrase_limits": ["5 per minute"]}) as station:
        statuses = [(await post(station, DIALECT_1, passphrase=f"guess{i}"))[0] for i in range(5)]
        assert statuses == [401] * 5
        status, body, headers = await post(station, DIALECT_1, passphrase="guess6")
        assert status == 429 and int(headers["Retry-After"]) >= 1
        status, body, headers = await post(station, DIALECT_1)  # even the right one waits: no guessing
        assert_error(status, body, 429)
        assert rows(station) == []


async def test_the_allow_list_refuses_other_addresses_with_403(data_dir, secrets):
    settings = {"allowlist": ["52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7"]}
    async with running_station(data_dir, secrets, settings) as station:
        status, body, _ = await post(station, DIALECT_1)
        assert_error(status, body, 403)
        status, body, _ = await post(station, DIALECT_1, headers={"X-Forwarded-For": "52.89.214.238"})
        assert status == 403  # not behind a tunnel: the header is not trusted
        assert rows(station) == []


async def test_behind_a_tunnel_the_forwarded_address_counts(data_dir, secrets):
    settings = {"allowlist": ["52.89.214.238"], "behind_tunnel": True}
    async with running_station(data_dir, secrets, settings) as station:
        status, body, _ = await post(station, DIALECT_1, headers={"X-Forwarded-For": "52.89.214.238"})
        assert status == 200 and body["status"] == "success"
        assert rows(station)[0]["source_addr"] == "52.89.214.238"
        status, _, _ = await post(station, DIALECT_3, headers={"X-Forwarded-For": "52.89.214.238, 198.51.100.7"})
        assert status == 403  # the tunnel's own (last) entry is what counts
        status, _, _ = await post(station, DIALECT_3, headers={"X-Forwarded-For": "198.51.100.7, 52.89.214.238"})
        assert status == 200
        status, _, _ = await post(station, DIALECT_2)
        assert status == 403


async def test_a_body_that_never_arrives_times_out_with_408(live, monkeypatch):
    from station.web.tradingview import endpoint

    monkeypatch.setattr(endpoint, "BODY_TIMEOUT_S", 0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", live.receiver.port)
    writer.write(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 500\r\n\r\n{\"pass")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 408") and b"application/json" in head
    writer.close()
    assert rows(live) == []


async def test_malformed_http_is_a_4xx_not_a_crash(live):
    for raw in (b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
                b"GARBAGE\r\n\r\n"):
        reader, writer = await asyncio.open_connection("127.0.0.1", live.receiver.port)
        writer.write(raw)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        assert status_line.split()[1].startswith(b"4"), status_line
        writer.close()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{live.receiver.url}/health") as response:
            assert response.status == 200
