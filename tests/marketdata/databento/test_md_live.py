"""The real `databento.Live` client against the loopback gateway: auth, data, bad key, drops, staleness."""

import asyncio
import functools
import itertools
import threading
from datetime import datetime, timezone

import pytest

from support import wait
from support.databento_gateway import VALID_KEY, Instrument, LoopbackGateway
from station.backoff import Backoff
from station.bus import Bus
from station.domain.enums import ConnectionState
from station.domain.events import BarUpdated, ConnectionChanged, ErrorRaised, TickReceived
from station.marketdata.hub import BarHub
from station.marketdata.databento.live import DatabentoLive, LiveSubscription

SUBSCRIPTION = LiveSubscription("GLBX.MDP3", "trades", ("ES.c.0", "NQ.c.0"), "continuous")
# trades are stamped inside a CME session (Thursday 10:30 EDT), whatever day the tests run
SESSION_TIME = int(datetime(2025, 5, 15, 14, 30, tzinfo=timezone.utc).timestamp()) * 10**9
_stamp = itertools.count()


def trade(gateway, symbol, price, size=1):
    return gateway.publish(symbol, price, size, ts_event=SESSION_TIME + next(_stamp) * 1_000_000)


# support.wait's helper with a longer deadline: reconnects wait out a backoff
until = functools.partial(wait.until, timeout=10.0)


@pytest.fixture
async def gateway():
    gw = LoopbackGateway([Instrument(4916, "ESM5", ("ES.c.0",)), Instrument(2786, "NQM5", ("NQ.c.0",))])
    await gw.start()
    yield gw
    await gw.stop()


async def feed(gateway, secrets, *, key=VALID_KEY, **kw):
    if key:
        secrets.set("databento-key", key)
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    seen = []
    for kind in (ConnectionChanged, ErrorRaised, BarUpdated, TickReceived):
        bus.subscribe(kind, seen.append)
    hub = BarHub(bus, tick_interval_s=0)
    await hub.start()
    live = DatabentoLive(bus, hub, secrets, [SUBSCRIPTION], gateway="127.0.0.1", port=gateway.port,
                         warmup="none", backoff=Backoff(0.1, 0.2), bad_key_retry_s=0.3, **kw)
    await live.start()
    return live, hub, seen


async def streaming(live, gateway, sessions: int = 1) -> None:
    """Until `live` says CONNECTED and the gateway streams to its `sessions`-th session.

    The feed is CONNECTED once it has sent its subscriptions; the gateway logs them and starts
    streaming when it has read them, a moment later: a trade published before that goes nowhere.
    """
    await until(lambda: live.state is ConnectionState.CONNECTED and len(gateway.subscription_log) >= sessions,
                what=f"the gateway streaming to session {sessions}")


def lights(seen):
    return [e for e in seen if isinstance(e, ConnectionChanged)]


async def test_trades_arrive_under_station_names_on_our_loop(gateway, secrets):
    live, hub, seen = await feed(gateway, secrets)
    await streaming(live, gateway)
    assert gateway.subscription_log[0][0]["symbols"] == "ES.c.0,NQ.c.0"
    assert gateway.subscription_log[0][0]["stype_in"] == "continuous" and "start" not in gateway.subscription_log[0][0]
    threads = []
    hub.bus.subscribe(TickReceived, lambda e: threads.append(threading.get_ident()))
    trade(gateway, "ES.c.0", 5900.25, 3)
    trade(gateway, "NQ.c.0", 21000.5, 1)
    trade(gateway, "ES.c.0", 5900.50, 2)
    await until(lambda: hub.trades == 3)
    await until(lambda: {e.tick.symbol for e in seen if isinstance(e, TickReceived)} == {"ES", "NQ"})
    assert set(threads) == {threading.get_ident()}  # handed over to our loop's thread
    forming = hub.series[("ES", "1m")].builder.forming
    assert (forming.open, forming.close, forming.volume) == (5900.25, 5900.5, 5.0)
    light = lights(seen)[-1]
    assert light.kind == "feed" and light.name == "databento" and "ES.c.0" in light.detail
    await live.stop()
    assert lights(seen)[-1].state is ConnectionState.DISCONNECTED


async def test_a_bad_key_is_a_clear_error_and_is_retried(gateway, secrets):
    live, hub, seen = await feed(gateway, secrets, key="db-ThisKeyIsNotKnownToTheGw0Zz9q")
    await until(lambda: len(gateway.auth_attempts) >= 2)
    errors = [e for e in seen if isinstance(e, ErrorRaised)]
    assert errors and "Databento rejected the key (databento-key): Authentication failed." in errors[0].message
    assert live.state is ConnectionState.ERROR and "retrying" in live._detail
    assert "ThisKeyIsNotKnown" not in errors[0].message
    secrets.set("databento-key", VALID_KEY)  # fixed while running: picked up on the next try
    await until(lambda: live.state is ConnectionState.CONNECTED)
    await live.stop()


async def test_no_key_says_how_to_set_one(gateway, secrets):
    live, hub, seen = await feed(gateway, secrets, key=None)
    await until(lambda: lights(seen))
    assert lights(seen)[0].state is ConnectionState.DISCONNECTED
    assert "station secret set databento-key" in lights(seen)[0].detail
    await live.stop()


async def test_a_dropped_connection_reconnects_resubscribes_and_loses_nothing(gateway, secrets):
    live, hub, seen = await feed(gateway, secrets)
    await streaming(live, gateway)
    for i in range(5):
        trade(gateway, "ES.c.0", 5900 + i * 0.25)
    await until(lambda: hub.trades == 5)
    gateway.drop()
    for i in range(5, 8):  # trades while we are away: the intraday replay brings them
        trade(gateway, "ES.c.0", 5900 + i * 0.25)
    await until(lambda: live.connections == 2)
    await streaming(live, gateway, 2)
    again = gateway.subscription_log[1][0]
    assert again["symbols"] == "ES.c.0,NQ.c.0" and int(again["start"]) == int(gateway.history[4]["ts_recv"][0])
    trade(gateway, "ES.c.0", 5902.0)
    # the replay comes before this live trade on the same stream: once it is in, a double count would be too
    await until(lambda: hub.last.get("ES", (0, 0.0))[1] == 5902.0)
    assert hub.trades == 9  # the replayed fifth trade was not counted twice
    prices = hub.tapes["ES"].column("price").tolist()
    assert prices == [5900 + i * 0.25 for i in range(8)] + [5902.0]
    states = [e.state for e in lights(seen)]
    assert ConnectionState.DISCONNECTED in states[states.index(ConnectionState.CONNECTED):]
    await live.stop()


async def test_a_gateway_that_is_down_is_retried_with_backoff(gateway, secrets):
    port = gateway.port
    await gateway.stop()
    live, hub, seen = await feed(gateway, secrets)
    await until(lambda: sum(1 for e in lights(seen) if "reconnecting" in e.detail) >= 2)
    assert live.state is ConnectionState.DISCONNECTED and "failed" in live._detail
    await gateway.start(port)
    await until(lambda: live.state is ConnectionState.CONNECTED)
    await live.stop()


async def test_quiet_data_lights_stale_and_trades_light_it_again(gateway, secrets):
    live, hub, seen = await feed(gateway, secrets, stale_after_s=0.5, heartbeat_interval_s=5)
    await streaming(live, gateway)
    await until(lambda: live.state is ConnectionState.STALE, timeout=5)
    assert "no trades" in live._detail
    trade(gateway, "NQ.c.0", 21000)
    await until(lambda: live.state is ConnectionState.CONNECTED)
    await live.stop()


async def test_unknown_symbols_are_reported(gateway, secrets):
    secrets.set("databento-key", VALID_KEY)
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    errors = []
    bus.subscribe(ErrorRaised, errors.append)
    hub = BarHub(bus)
    live = DatabentoLive(bus, hub, secrets, [LiveSubscription("GLBX.MDP3", "trades", ("ZZZ.c.0",), "continuous")],
                         gateway="127.0.0.1", port=gateway.port, warmup="none")
    await live.start()
    await until(lambda: errors)
    assert "Failed to resolve symbol ZZZ.c.0" in errors[0].message
    await live.stop()


async def test_parent_symbology_publishes_each_contract_and_ohlcv_feeds_the_bars(secrets):
    gateway = LoopbackGateway([Instrument(4916, "ESM5", ("ES.FUT",)), Instrument(4917, "ESU5", ("ES.FUT",))])
    await gateway.start()
    secrets.set("databento-key", VALID_KEY)
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    hub = BarHub(bus, timeframes=("1m", "5m"))
    await hub.start()
    subscriptions = [LiveSubscription("GLBX.MDP3", "trades", ("ES.FUT",), "parent"),
                     LiveSubscription("GLBX.MDP3", "ohlcv-1m", ("ES.FUT",), "parent")]
    live = DatabentoLive(bus, hub, secrets, subscriptions, gateway="127.0.0.1", port=gateway.port, warmup="none")
    await live.start()
    await streaming(live, gateway)
    assert [s["schema"] for s in gateway.subscription_log[0]] == ["trades", "ohlcv-1m"]
    assert gateway.subscription_log[0][0]["stype_in"] == "parent"
    gateway.publish("ESM5", 5900.0, ts_event=SESSION_TIME)
    gateway.publish("ESU5", 5950.0, ts_event=SESSION_TIME + 1)
    await until(lambda: set(hub.tapes) == {"ESM5", "ESU5"})  # each contract under its own name
    for minute in range(6):
        price = 5900.0 + minute
        gateway.publish_bar("ESM5", "ohlcv-1m", SESSION_TIME + minute * 60 * 10**9, price, price + 2, price - 1,
                            price + 1, 100)
    await until(lambda: len(hub.series[("ESM5", "5m")].store) == 1)
    five = hub.series[("ESM5", "5m")].store.arrays()
    assert [float(x[0]) for x in five[1:]] == [5900.0, 5906.0, 5899.0, 5905.0, 501.0]  # the trade + 5 bars
    await live.stop()
    await gateway.stop()
