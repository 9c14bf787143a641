"""Parity: a backtest's fills equal, one for one, the fills the live path makes when the same file is replayed
through a running Station with the paper broker.

The files are sparse and replayed slowly enough that the live pipeline settles between two trades: it needs a
few ms (up to some tens under load) to journal a signal durably, route it and fill it, and gets 100 ms or more,
so live, as in the backtest, every order fills before the next trade exists. Two ways bars close are covered:
3-tick bars (a bar closes on a trade: one trade a second at ×5, 200 ms apart) and 1m bars (a bar closes at its
end, when the replay's clock passes it between two trades: one trade every 6 s, 2.5 s before and 3.5 s after
each minute, at ×10; the replay steps at most 250 ms of wall time, 2.5 s of data, so it closes the bar at the
minute and the pipeline has 350 ms before the next trade). Each fill is compared by side, quantity, price
and the trade it followed.
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal

import numpy as np
import pytest

from support.backtest import random_walk
from support.launch import free_port
from support.wait import until

from station.app import Options, Station
from station.domain.commands import StartReplay, StartStrategy
from station.domain.events import FillReported
from station.marketdata.databento.files import DbnFile
from station.marketdata.trades import to_ns
from station.research.config import backtest_document
from station.research.run import BacktestSpec, run_backtest

pytestmark = pytest.mark.slow

LINES = {"line1": {"type": "ema", "period": 2}, "line2": {"type": "sma", "period": 3}}
STRATEGIES = {"Ticks": {"engine": {"kind": "crossover", "timeframe": "3t", **LINES}},
              "Minutes": {"engine": {"kind": "crossover", "timeframe": "1m", **LINES}}}
# name: (trades, seconds apart, first trade after the start, replay speed)
FILES = {"Ticks": (150, 1.0, 0.5, 5.0), "Minutes": (130, 6.0, 3.5, 10.0)}


@pytest.fixture
def live_dir(tmp_path):
    """The live Station's data dir in memory where the OS has a tmpfs: its commits stay durable to SQLite, but a
    disk shared with other work (fsync taking 100 ms and more under load) does not set the pipeline's pace."""
    import shutil
    import tempfile
    from pathlib import Path

    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path / "data"
        return
    folder = Path(tempfile.mkdtemp(prefix="station-parity-", dir=shm))
    try:
        yield folder / "data"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def live_fills(data_dir, secrets, path, name: str, speed: float) -> tuple[list[tuple], Station]:
    """Replay `path` through a running Station trading strategy `name` at paper; its fills at market time."""
    station = Station(Options(data_dir=data_dir, port=free_port()), secrets)
    station.config.import_document({
        "destinations": {"paper": {"type": "paper"}},
        "strategies": {name: {**STRATEGIES[name], "tickers": {"ES": {"destinations": {"paper": {"qty": 1}}}}}},
        "settings": {"marketdata": {"live_symbols": []}}})
    fills: list[tuple] = []
    hub = station.marketdata.hub
    station.bus.subscribe(FillReported, lambda e: fills.append(  # the trade it followed: the last one the hub took
        (hub.last[e.fill.ticker][0], str(e.fill.side), e.fill.qty, e.fill.price)))
    await station.start()
    try:
        station.bus.publish(StartStrategy(name))
        await until(lambda: name in station.engine.groups and station.engine.groups[name].state == "running", 30)
        station.bus.publish(StartReplay(str(path), speed))
        await asyncio.sleep(0)
        await asyncio.wait_for(station.marketdata.replay.finished.wait(), 120)
        await until(lambda: not station.oms.book.open_orders(), 10)
        await station.bus.drain()
        await station.oms.recorder.flush()
    finally:
        await station.stop()
    return fills, station


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", ["Ticks", "Minutes"])
async def test_a_backtest_fills_as_the_live_pipeline_does_on_a_replay_of_the_same_file(tmp_path, live_dir, secrets, name):
    data_dir = live_dir
    trades, apart, offset, speed = FILES[name]
    path = random_walk(tmp_path / "es.dbn", "ES", trades, seconds_apart=apart, offset_s=offset, seed=13)
    live, station = await live_fills(data_dir, secrets, path, name, speed)
    assert len(live) >= 4, "the walk should make the strategy trade a few times"

    reopened = Station(Options(data_dir=data_dir, port=free_port()), secrets)
    try:
        document = backtest_document(reopened.config, name)
    finally:
        reopened.store.close()
    result = await asyncio.to_thread(run_backtest, BacktestSpec(name, document, str(path)))  # a loop of its own
    times = np.array([int(t) for t in DbnFile(path).store.to_ndarray()["ts_event"]])
    followed = [int(times[np.searchsorted(times, to_ns(f.time), "right") - 1]) for f in result.records]
    backtest = [(ts, f.side, f.qty, f.price) for ts, f in zip(followed, result.records)]
    assert backtest == live
    assert all(isinstance(price, Decimal) for *_, price in backtest)
