"""Who may reach /api, Socket.IO and the dashboard (CONTRACT.md "REST API and scripts"), with real clients."""

from __future__ import annotations

import aiohttp
import pytest
import socketio

from station.app import Options, Station
from station.domain.events import ConfigChanged
from station.web.guard import AccessGuard, AccessSettings, host_name

TOKEN = "guard-api-token-123"
PASSPHRASE = "guard passphrase"
TUNNEL = "https://calm-river-1234.trycloudflare.com"


@pytest.fixture
async def station(data_dir, secrets):
    secrets.set("api-token", TOKEN)
    secrets.set("webhook-passphrase", PASSPHRASE)
    core = Station(Options(data_dir=data_dir, port=0), secrets)
    await core.start()
    yield core
    await core.stop()


async def behind_tunnel(core: Station, on: bool = True) -> None:
    revision = await core.config.update_settings("webhook", {"behind_tunnel": on, "public_url": TUNNEL})
    core.bus.publish(ConfigChanged(revision))


async def connect(core: Station, headers: dict | None = None, token: str | None = None) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(core.receiver.url, headers=headers or {}, auth={"token": token} if token else None,
                         transports=["websocket"], wait_timeout=5)
    return client


async def test_a_script_on_this_pc_needs_no_token(station):
    client = await connect(station)
    assert client.connected
    await client.disconnect()


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "CF-Connecting-IP"])
async def test_behind_a_tunnel_a_forwarded_socketio_client_needs_the_token(station, header):
    await behind_tunnel(station)
    value = "for=203.0.113.9" if header == "Forwarded" else "203.0.113.9"
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(station, {header: value})
    client = await connect(station, {header: value}, token=TOKEN)
    assert client.connected
    await client.disconnect()


async def test_failed_socketio_tokens_are_limited_per_address(station):
    await behind_tunnel(station)
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    for _ in range(10):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect(station, forwarded, token="wrong")
    with pytest.raises(socketio.exceptions.ConnectionError):  # now even the right one waits
        await connect(station, forwarded, token=TOKEN)
    phone = await connect(station, {"X-Forwarded-For": "198.51.100.7"}, token=TOKEN)  # another client, same tunnel
    assert phone.connected
    await phone.disconnect()
    local = await connect(station)  # a script on this PC: no token, never limited
    assert local.connected
    await local.disconnect()


@pytest.mark.parametrize("headers", [{"Host": "evil.example"}, {"Origin": "http://evil.example"},
                                     {"Host": "127.0.0.1.evil.example:8765"}, {"Origin": "null"}])
async def test_a_foreign_host_or_origin_is_refused_on_the_api_and_socketio(station, headers):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{station.receiver.url}/api/alerts", headers={**headers, "Authorization": f"Bearer {TOKEN}"}) as answer:
            assert answer.status == 403 and (await answer.json())["status"] == "error"
        async with http.get(f"{station.receiver.url}/socket.io/?EIO=4&transport=polling", headers=headers) as answer:
            assert answer.status == 403


@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_a_page_from_another_loopback_origin_reaches_socketio(station, transport):
    # a script's own frontend served on another local port, or the dashboard opened as localhost
    for origin in ("http://localhost:3000", f"http://localhost:{station.receiver.port}", "http://[::1]:5000"):
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(station.receiver.url, headers={"Origin": origin}, transports=[transport], wait_timeout=5)
        assert client.connected, origin
        await client.disconnect()


async def test_a_foreign_origin_after_a_loopback_one_is_refused(station):
    import asyncio

    for path in (b"/api/alerts", b"/socket.io/?EIO=4&transport=polling", b"/"):
        reader, writer = await asyncio.open_connection("127.0.0.1", station.receiver.port)
        writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\n"
                     b"Origin: http://evil.example\r\nAuthorization: Bearer " + TOKEN.encode() +
                     b"\r\nConnection: close\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 403"), (path, answer[:200])


async def test_loopback_names_and_the_tunnel_host_are_welcome(station):
    await behind_tunnel(station)
    async with aiohttp.ClientSession() as http:
        for host in ("localhost:8765", "127.0.0.1", "[::1]:8765", "calm-river-1234.trycloudflare.com"):
            async with http.get(f"{station.receiver.url}/api/alerts",
                                headers={"Host": host, "Authorization": f"Bearer {TOKEN}"}) as answer:
                assert answer.status == 200, host


async def test_the_webhook_takes_an_alert_whatever_the_host(station):
    body = {"passphrase": PASSPHRASE, "ticker": "AAPL", "action": "buy", "qty": 1}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{station.receiver.url}/webhook", json=body, headers={"Host": "not-pasted-yet.example"}) as answer:
            assert answer.status == 200 and (await answer.json())["message"] == "Alert queued"


def test_host_names_are_read_as_browsers_send_them():
    assert host_name("LOCALHOST:8765") == "localhost" and host_name("[::1]:80") == "::1"
    assert host_name("http://127.0.0.1:8765") == "127.0.0.1" and host_name("null") is None
    guard = AccessGuard(lambda: AccessSettings(True, "t.example"), bind_host="0.0.0.0")
    guard.reload()
    assert guard.name_allowed("127.5.6.7") and guard.name_allowed("t.example")
    assert not guard.name_allowed("0.0.0.0") and not guard.name_allowed("evil.example")
    assert not guard.is_local("127.0.0.1", {"X-Forwarded-For": "1.2.3.4"}) and guard.is_local("::1", {})
