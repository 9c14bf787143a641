"""The core without a window: start, stop, health, config changes picked up live."""

import asyncio
import json
import sys

import aiohttp

from support.launch import free_port
from support.wait import until
from station.app import Options, Station
from station.domain.events import ConfigChanged, ReceiverStarted


async def test_start_serves_health_and_stop_closes_the_store(data_dir, secrets):
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    started = []
    station.bus.subscribe(ReceiverStarted, started.append)
    await station.start()
    assert started and started[0].port == station.receiver.port != 0
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{station.receiver.url}/health") as response:
            body = await response.json()
    assert response.status == 200 and body["status"] == "ok"
    await station.stop()
    assert station.store.writer._closed


async def test_a_cli_import_reaches_a_running_station_without_restart(data_dir, secrets, tmp_path):
    station = Station(Options(data_dir=data_dir, port=free_port()), secrets)
    changes = []
    station.bus.subscribe(ConfigChanged, changes.append)
    await station.start()
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"strategies": {"Live": {"tickers": {"NQ": {"ports": [5005]}}}}}))
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "station", "config", "import", str(path),
                                                "--data-dir", str(data_dir))
    assert await proc.wait() == 0
    await until(lambda: changes, 5, what="ConfigChanged after the CLI import")
    assert changes[-1].revision == 1
    assert station.config.load().strategy("Live").ticker("NQ").ports == (5005,)
    await station.stop()
