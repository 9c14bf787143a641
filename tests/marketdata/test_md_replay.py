"""DBN replay: as fast as possible, paced ×10/×100/×1 (checked against the loop clock), gaps, speed changes."""

import asyncio
from datetime import datetime, timezone

import numpy as np
import pytest

from station.bus import Bus
from station.domain.commands import SetReplaySpeed, StartReplay
from station.domain.enums import ConnectionState
from station.domain.events import ConnectionChanged, ErrorRaised
from station.marketdata.databento.files import DbnFile
from station.marketdata.databento.write import metadata_bytes, trade_records, write_dbn
from station.marketdata.hub import BarHub
from station.marketdata.replay import DbnReplay
from support.wait import until

START = int(datetime(2025, 5, 15, 14, 30, tzinfo=timezone.utc).timestamp()) * 10**9


def trades_file(tmp_path, offsets_s, name="t.dbn.zst"):
    ts = START + (np.asarray(offsets_s) * 1e9).astype(np.int64)
    price = 5900 + 0.25 * (np.arange(len(ts)) % 7)
    records = trade_records(np.where(np.arange(len(ts)) % 2, 11, 12), ts, price, np.ones(len(ts)))
    header = metadata_bytes({"ES.c.0": 11, "NQ.c.0": 12}, START, int(ts[-1]) + 1, stype_in="continuous")
    return write_dbn(tmp_path / name, header, records, zstd_level=3), ts


async def replayed(path, speed, **kw):
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    lights = []
    bus.subscribe(ConnectionChanged, lights.append)
    hub = BarHub(bus)
    await hub.start()
    replay = DbnReplay(bus, hub, path, speed=speed, **kw)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await replay.start()
    await asyncio.wait_for(replay.finished.wait(), 20)
    elapsed = loop.time() - started
    await replay.stop()
    await hub.stop()
    return hub, replay, lights, elapsed


async def test_as_fast_as_possible_delivers_every_trade_and_lights_the_feed(tmp_path):
    path, ts = trades_file(tmp_path, np.arange(5000) * 0.1)
    hub, replay, lights, _ = await replayed(path, 0.0, chunk=1000)
    assert replay.replayed == hub.trades == 5000
    assert {s for s in hub.tapes} == {"ES", "NQ"}
    assert lights[0].kind == "feed" and lights[0].state is ConnectionState.REPLAYING
    assert lights[-1].state is ConnectionState.DISCONNECTED and "replay finished" in lights[-1].detail
    es = hub.series[("ES", "1m")]
    assert len(es.store) == 8 and es.builder.forming is not None  # 500 s of data: 8 whole minutes


@pytest.mark.parametrize("speed,span_s", [(10.0, 3.0), (100.0, 20.0), (1.0, 0.6)])
async def test_paced_replay_follows_the_loop_clock(tmp_path, speed, span_s):
    path, _ = trades_file(tmp_path, np.linspace(0, span_s, 200))
    hub, replay, _, elapsed = await replayed(path, speed)
    expected = span_s / speed
    assert replay.replayed == 200
    assert elapsed >= expected * 0.9  # never faster than the clock allows
    assert elapsed < expected + 2.0


async def test_closed_hours_are_skipped_at_real_time_speed(tmp_path):
    path, _ = trades_file(tmp_path, [0, 0.1, 3600, 3600.1])  # an hour's gap
    _, replay, _, elapsed = await replayed(path, 1.0)
    assert replay.replayed == 4 and elapsed < 2.0


async def test_start_at_fast_forwards_then_paces(tmp_path):
    path, ts = trades_file(tmp_path, np.concatenate([np.arange(0, 3000, 1.0), [3000.5, 3001.0]]))
    _, replay, _, elapsed = await replayed(path, 1.0, start_at=int(ts[3000]))
    assert replay.replayed == 3002 and 0.45 <= elapsed < 3.0  # 3000 s at once, then 0.5 s paced


async def test_speed_changes_and_new_files_by_command(tmp_path):
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    hub = BarHub(bus)
    await hub.start()
    replay = DbnReplay(bus, hub)
    await replay.start()
    slow, _ = trades_file(tmp_path, np.linspace(0, 100, 50), "slow.dbn.zst")
    bus.publish(StartReplay(str(slow), 1.0))
    await until(lambda: replay.replayed, what="the replay under way")
    assert replay.replayed < 50  # 100 s of trades at real time: far from done
    lights = []
    bus.subscribe(ConnectionChanged, lights.append)
    bus.publish(SetReplaySpeed(0))
    await asyncio.wait_for(replay.finished.wait(), 5)
    assert replay.replayed == 50 and "max speed" in lights[0].detail
    await replay.stop()
    await hub.stop()


async def test_a_bad_file_lights_the_feed_red_and_says_why(tmp_path):
    bad = tmp_path / "bad.dbn"
    bad.write_bytes(b"not dbn at all")
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    seen = []
    bus.subscribe(ConnectionChanged, seen.append)
    bus.subscribe(ErrorRaised, seen.append)
    hub = BarHub(bus)
    replay = DbnReplay(bus, hub, bad)
    await replay.start()
    await asyncio.wait_for(replay.finished.wait(), 5)
    await replay.stop()
    assert any(isinstance(e, ErrorRaised) and "bad.dbn" in e.message for e in seen)
    assert seen[-1].state is ConnectionState.ERROR


async def test_replayed_bars_equal_bars_built_at_once(tmp_path):
    rng = np.random.default_rng(3)
    path, _ = trades_file(tmp_path, np.sort(rng.uniform(0, 900, 3000)))
    hub, *_ = await replayed(path, 0.0, chunk=257)
    bus = Bus()
    direct = BarHub(bus)
    for b in DbnFile(path).batches(100_000):
        direct.ingest(b)
    for key in (("ES", "1m"), ("NQ", "1m")):
        got, want = hub.series[key].store.arrays(), direct.series[key].store.arrays()
        assert all(np.array_equal(g, w) for g, w in zip(got, want))


@pytest.mark.slow
def test_the_replay_benchmark_runs_and_reports_against_the_decode_rate():
    import json

    from support.launch import run_cli

    result = run_cli("bench", "replay", "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["bench"] == "replay" and figures["replay_trades_per_s"] > 0 and figures["decode_trades_per_s"] > 0
    assert figures["replay_vs_decode"] == pytest.approx(figures["replay_trades_per_s"] / figures["decode_trades_per_s"],
                                                        rel=0.01)
    assert figures["bus_events"]["closed_bars"] > 1000 and figures["bus_events"]["ticks"] >= 2
