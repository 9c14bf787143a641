"""Schwab's browser login caught by Station's own TLS listener, against the loopback Schwab double; no paste.

The browser is simulated by an HTTP client that opens the login URL Station publishes and
follows Schwab's redirect to the https://127.0.0.1:PORT callback, trusting Station's
self-signed certificate as the trader does when the browser asks. The paste-back
fallback, refusals, and the 7-day expiry notice are here too.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from datetime import timedelta
from urllib.parse import quote

import aiohttp
import pytest

from support.broker_harness import FAST, Recorder
from support.launch import free_port
from support.schwab_double import APP_KEY, APP_SECRET, SchwabDouble
from support.wait import until
from station.brokers.registry import BrokerContext
from station.brokers.schwab import build
from station.brokers.schwab.authorization import SchwabAuthorization
from station.brokers.schwab.callback import CERT_FILE
from station.brokers.schwab.token_watch import SchwabTokenWatch
from station.bus import Bus
from station.domain.commands import AuthorizeBroker, CompleteBrokerAuthorization
from station.domain.config import DestinationConfig
from station.domain.events import BrokerAuthorizationStarted, BrokerAuthorized, Notified, SecretChanged
from station.domain.timeutil import utc_now


@pytest.fixture
async def double():
    server = await SchwabDouble(callback=f"https://127.0.0.1:{free_port()}").start()
    yield server
    await server.stop()


@pytest.fixture
async def login(double, secrets, tmp_path):
    """A running SchwabAuthorization on a bound bus, with what it publishes recorded."""
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    seen: list = []
    for kind in (BrokerAuthorizationStarted, BrokerAuthorized, SecretChanged):
        bus.subscribe(kind, seen.append)
    destination = DestinationConfig("schwab-ira", "schwab", {"base_url": double.url, "callback_url": double.callback})
    component = SchwabAuthorization(bus, secrets, lambda: [destination], tmp_path / "tls", wait_s=20)
    await component.start()
    component.seen, component.bus, component.destination = seen, bus, destination
    yield component
    await component.stop()


def of(seen, kind):
    return [event for event in seen if isinstance(event, kind)]


async def browser(url: str, cafile) -> tuple[int, str, str]:
    """Open `url` as the trader's browser does (redirects followed), trusting Station's certificate."""
    context = ssl.create_default_context(cafile=str(cafile))
    async with aiohttp.ClientSession() as session:
        async with session.get(url, ssl=context) as response:
            return response.status, str(response.url), await response.text()


async def test_the_callback_is_caught_over_tls_and_the_refresh_token_stored(login, double, secrets, tmp_path):
    secrets.set("schwab-app-key", APP_KEY)
    secrets.set("schwab-app-secret", APP_SECRET)
    login.bus.publish(AuthorizeBroker("r1", "schwab"))
    started = (await until(lambda: of(login.seen, BrokerAuthorizationStarted), what="the login URL"))[0]
    assert started.listening and started.callback_url == double.callback and started.note == ""
    assert started.url.startswith(f"{double.url}/v1/oauth/authorize?") and f"client_id={APP_KEY}" in started.url
    assert f"redirect_uri={quote(double.callback, safe='')}" in started.url

    status, landed, page = await browser(started.url, tmp_path / "tls" / CERT_FILE)
    assert status == 200 and landed.startswith(f"{double.callback}/?code=") and "Station has your Schwab login" in page

    done = (await until(lambda: of(login.seen, BrokerAuthorized), what="the login's end"))[0]
    assert done.ok, done.message
    assert "lasts until" in done.message and abs(done.issued_at - utc_now()) < timedelta(minutes=1)
    refresh = secrets.get("schwab-refresh-token")
    assert refresh is not None and refresh.reveal() in double.refresh_tokens
    assert refresh.reveal() not in done.message
    assert secrets.issued_at("schwab-refresh-token") == done.issued_at
    assert [e.name for e in of(login.seen, SecretChanged)] == ["schwab-refresh-token"]
    with socket.socket() as probe:  # the listener is gone once the login ended
        assert probe.connect_ex(("127.0.0.1", int(double.callback.rsplit(":", 1)[1]))) != 0

    # the broker now connects with what was stored
    seen = Recorder(login.bus)
    broker = build(login.destination, BrokerContext(login.bus, tmp_path, secrets=secrets), **FAST)
    await broker.start()
    try:
        await seen.connected(broker)
    finally:
        await broker.stop()


async def test_the_certificate_is_made_once_and_reused(login, double, secrets, tmp_path):
    secrets.set("schwab-app-key", APP_KEY)
    secrets.set("schwab-app-secret", APP_SECRET)
    made = []
    for request_id in ("r1", "r2"):
        login.bus.publish(AuthorizeBroker(request_id))
        started = await until(lambda: [e for e in of(login.seen, BrokerAuthorizationStarted)
                                       if e.request_id == request_id], what="the login URL")
        made.append((tmp_path / "tls" / CERT_FILE).read_bytes())
        await browser(started[0].url, tmp_path / "tls" / CERT_FILE)
        await until(lambda: [e for e in of(login.seen, BrokerAuthorized) if e.request_id == request_id and e.ok],
                    what="authorised")
    assert made[0] == made[1] and b"BEGIN CERTIFICATE" in made[0]


async def test_where_the_port_cannot_be_opened_the_pasted_address_completes_it(login, double, secrets):
    secrets.set("schwab-app-key", APP_KEY)
    secrets.set("schwab-app-secret", APP_SECRET)
    port = int(double.callback.rsplit(":", 1)[1])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        login.bus.publish(AuthorizeBroker("r1"))
        started = (await until(lambda: of(login.seen, BrokerAuthorizationStarted), what="the login URL"))[0]
        assert not started.listening and f"127.0.0.1:{port}" in started.note and "paste" in started.note
        async with aiohttp.ClientSession() as session:  # the browser lands on a page that does not load
            async with session.get(started.url, allow_redirects=False) as response:
                redirected = response.headers["Location"]
        login.bus.publish(CompleteBrokerAuthorization("r1", redirected))
        done = (await until(lambda: of(login.seen, BrokerAuthorized), what="the login's end"))[0]
    assert done.ok and secrets.get("schwab-refresh-token").reveal() in double.refresh_tokens
    assert "***" in repr(CompleteBrokerAuthorization("r1", redirected))


async def test_refusals_say_what_to_do(login, double, secrets):
    login.bus.publish(AuthorizeBroker("r1"))
    first = (await until(lambda: of(login.seen, BrokerAuthorized), what="refused"))[0]
    assert not first.ok and "schwab-app-key" in first.message and "schwab-app-secret" in first.message
    secrets.set("schwab-app-key", APP_KEY)
    secrets.set("schwab-app-secret", "not the secret")
    login.bus.publish(AuthorizeBroker("r2"))
    started = await until(lambda: of(login.seen, BrokerAuthorizationStarted), what="the login URL")
    async with aiohttp.ClientSession() as session:
        async with session.get(started[0].url, allow_redirects=False) as response:
            redirected = response.headers["Location"]
    login.bus.publish(CompleteBrokerAuthorization("r2", redirected))
    second = (await until(lambda: [e for e in of(login.seen, BrokerAuthorized) if e.request_id == "r2"],
                          what="refused"))[0]
    assert not second.ok and "Schwab refused" in second.message
    login.bus.publish(CompleteBrokerAuthorization("r3", redirected))  # nothing waits for it
    third = (await until(lambda: [e for e in of(login.seen, BrokerAuthorized) if e.request_id == "r3"],
                         what="refused"))[0]
    assert not third.ok and "Authorize" in third.message
    assert secrets.get("schwab-refresh-token") is None


async def test_the_command_line_login_stores_the_issue_time_too(double, secrets):
    from station.brokers.schwab.authorize import authorize

    secrets.set("schwab-app-key", APP_KEY)
    secrets.set("schwab-app-secret", APP_SECRET)
    destination = DestinationConfig("schwab", "schwab", {"base_url": double.url, "callback_url": double.callback})
    redirected = f"{double.callback}/?code={quote(double.issue_code())}&session=1"
    # authorize() runs a loop of its own, as the command line does: in a thread, while this loop serves the double
    await asyncio.to_thread(authorize, secrets, destination, read_line=lambda: redirected, say=lambda text: None)
    assert abs(secrets.issued_at("schwab-refresh-token") - utc_now()) < timedelta(minutes=1)
    assert secrets.delete("schwab-refresh-token") and secrets.issued_at("schwab-refresh-token") is None


async def test_a_day_before_the_seven_days_run_out_a_notice_of_its_own_kind(secrets):
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    notices: list[Notified] = []
    bus.subscribe(Notified, notices.append)
    now = [utc_now()]
    watch = SchwabTokenWatch(bus, secrets, clock=lambda: now[0])
    assert await watch.check() is None  # no token: nothing to say
    secrets.set("schwab-refresh-token", "rt-1", issued_at=now[0] - timedelta(days=5))
    assert await watch.check() is None  # two days left
    now[0] += timedelta(days=1, hours=1)  # 23 h left
    assert await watch.check() == "expiring" and await watch.check() is None  # once
    now[0] += timedelta(hours=23)
    assert await watch.check() == "expired"
    await bus.drain()
    assert [(n.kind, n.level) for n in notices] == [("schwab-token-expiry", "warning"), ("schwab-token-expiry", "error")]
    assert "in about 23 h" in notices[0].message and "Authorize" in notices[0].message
    secrets.set("schwab-refresh-token", "rt-2", issued_at=now[0])  # a new login: quiet again
    assert await watch.check() is None
