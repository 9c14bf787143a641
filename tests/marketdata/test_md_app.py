"""Market data inside Station: the demo replays the bundled sample; a normal start waits for a Databento key."""

from datetime import datetime, timezone

import aiohttp

from support.launch import free_port
from support.wait import until
from station.app import Options, Station
from station.domain.enums import ConnectionState
from station.domain.events import BarUpdated, TickReceived


async def test_the_demo_replays_es_and_nq_into_bars_and_lights_the_feed(data_dir, secrets):
    station = Station(Options(data_dir=data_dir, port=free_port(), demo=True), secrets)
    seen = []
    station.bus.subscribe(TickReceived, seen.append)
    station.bus.subscribe(BarUpdated, seen.append)
    await station.start()
    hub = station.marketdata.hub

    def replaying() -> bool:
        es = hub.series.get(("ES", "1m"))
        return es is not None and es.builder.forming is not None and "NQ" in hub.tapes and "replay" in station.connections

    await until(replaying, 10, what="ES bars forming, NQ trades and the replay light")
    assert station.connections["replay"].state is ConnectionState.REPLAYING
    assert station.connections["replay"].kind == "feed" and station.marketdata.live is None
    forming = hub.series[("ES", "1m")].builder.forming
    assert forming.start >= int(datetime(2025, 5, 15, 13, 25, tzinfo=timezone.utc).timestamp()) * 10**9  # 09:25 ET
    assert 5800 < hub.last["ES"][1] < 6100 and 20000 < hub.last["NQ"][1] < 23000
    assert any(isinstance(e, TickReceived) and e.tick.symbol == "NQ" for e in seen)
    assert any(isinstance(e, BarUpdated) and e.bar.closed for e in seen)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{station.receiver.url}/health") as response:
            assert (await response.json())["connections"]["replay"] == "replaying"
    await station.stop()


async def test_a_normal_start_asks_for_the_databento_key(data_dir, secrets):
    station = Station(Options(data_dir=data_dir, port=free_port()), secrets)
    await station.start()
    await until(lambda: "databento" in station.connections, what="the Databento light")
    light = station.connections["databento"]
    assert light.state is ConnectionState.DISCONNECTED and "station secret set databento-key" in light.detail
    assert [s.symbols for s in station.marketdata.live.subscriptions] == [("ES.c.0", "NQ.c.0")]
    await station.stop()
