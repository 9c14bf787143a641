"""Historical data through the real `databento.Historical` client and a TLS loopback double of its HTTP API."""

import asyncio
import functools
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from support import wait
from support.databento_http import HistoricalDouble, make_certificate
from station.bus import Bus
from station.domain.commands import CancelHistory, EstimateHistory, LoadHistory
from station.domain.events import BarsLoaded, HistoryEstimated, HistoryFinished, HistoryProgressed
from station.domain.marketdata import HistoryRequest
from station.marketdata.databento.write import sort_by_receive_time, trade_records
from station.marketdata.databento.historical import HistoricalData, missing_ranges
from station.marketdata.hub import BarHub
from station.store import Store
from station.store.history_cache_repo import HistoryCacheRepository

KEY = "db-HistoricalDoubleKey000000ZZ9"
UTC = timezone.utc
DAY1 = datetime(2025, 5, 13, 13, 30, tzinfo=UTC)  # three US mornings of ES and NQ trades
SYMBOLS = {"ES.c.0": 4916, "NQ.c.0": 2786}


def records() -> np.ndarray:
    parts = []
    for day in range(3):
        start = int((DAY1 + timedelta(days=day)).timestamp()) * 10**9
        ts = start + np.arange(0, 3600 * 10**9, 2 * 10**9, dtype=np.int64)  # one trade every 2 s for an hour
        for iid, base in ((4916, 5900.0), (2786, 21000.0)):
            parts.append(trade_records(iid, ts + (iid % 7), base + 0.25 * (np.arange(len(ts)) % 9), np.ones(len(ts))))
    return sort_by_receive_time(np.concatenate(parts))


def request(rid="r1", symbols=("ES.c.0",), day_from=0, day_to=1, schema="trades"):
    """From the first trade of day `day_from` to the end of the trading hour of day `day_to` - 1."""
    start = DAY1 + timedelta(days=day_from)
    end = DAY1 + timedelta(days=day_to - 1, hours=1)
    return HistoryRequest(rid, "GLBX.MDP3", schema, tuple(symbols), start, end, "continuous")


@pytest.fixture
async def double(tmp_path, monkeypatch):
    cert, key = make_certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # trust the throw-away certificate
    api = HistoricalDouble(KEY, records(), SYMBOLS)
    await api.start(cert, key)
    yield api
    await api.stop()


@pytest.fixture
async def history(double, data_dir, secrets):
    secrets.set("databento-key", KEY)
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    seen = []
    for kind in (HistoryEstimated, HistoryProgressed, HistoryFinished, BarsLoaded):
        bus.subscribe(kind, seen.append)
    hub = BarHub(bus)
    await hub.start()
    store = Store(data_dir)
    component = HistoricalData(bus, hub, secrets, HistoryCacheRepository(store), data_dir / "history",
                               gateway=double.gateway)
    await component.start()
    component.seen = seen
    yield component
    await component.stop()
    await hub.stop()
    store.close()


def finished(seen):
    return [e for e in seen if isinstance(e, HistoryFinished)]


def test_missing_ranges():
    assert missing_ranges([], 0, 10) == [(0, 10)]
    assert missing_ranges([(2, 4), (3, 6), (8, 12)], 0, 10) == [(0, 2), (6, 8)]
    assert missing_ranges([(0, 10)], 2, 5) == []


async def test_estimate_then_load_then_the_same_range_is_never_bought_again(history, double):
    gaps = await history.estimate(request())
    assert len(gaps) == 1 and gaps[0].size_bytes == 1800 * 48 and gaps[0].cost_usd > 0
    loaded = await history.load(request())
    assert loaded == 1800 and len(double.purchases()) == 1
    es = history.hub.series[("ES", "1m")]
    assert len(es.store) == 59 and es.builder.forming is not None  # an hour of one-minute bars
    assert any(isinstance(e, BarsLoaded) and e.bars.symbol == "ES" and len(e.bars) == 60 for e in history.seen)
    assert await history.estimate(request()) == []
    assert await history.load(request("r2")) == 1800
    assert len(double.purchases()) == 1  # served from the cache
    assert "all from the cache" in finished(history.seen)[-1].message


async def test_an_overlapping_request_buys_only_what_is_missing(history, double):
    await history.load(request(day_from=0, day_to=2))
    await history.load(request("r2", day_from=1, day_to=3))
    first, second = double.purchases()
    assert int(second["start"]) == int(first["end"])  # day three only
    assert len(history.hub.tapes["ES"]) == 3 * 1800


async def test_progress_moves_piece_by_piece(history):
    history.piece_bytes = 20_000  # 86 kB → five pieces
    await history.load(request())
    progress = [e for e in history.seen if isinstance(e, HistoryProgressed)]
    assert progress[-1].done == progress[-1].total == 5 and progress[-1].bytes_received > 0
    assert [p.done for p in progress if p.bytes_received == 0][:1] == [0]
    assert finished(history.seen)[-1].ok


async def test_cancel_stops_at_once_and_keeps_what_was_paid_for(history, double):
    double.chunk_delay_s = 0.05
    history.piece_bytes = 30_000  # three slow pieces
    history.bus.publish(LoadHistory(request()))
    await _until(lambda: any(isinstance(e, HistoryProgressed) and e.bytes_received > 0 for e in history.seen))
    history.bus.publish(CancelHistory("r1"))
    await _until(lambda: finished(history.seen))
    assert not finished(history.seen)[0].ok and "cancelled" in finished(history.seen)[0].message
    double.chunk_delay_s = 0
    # the piece in flight when the cancel came finishes in the background and is cached (it is paid for)
    await _until(lambda: double.streaming == 0)
    cached = lambda: [(p.start_ns, p.end_ns) for p in  # noqa: E731
                      history.index.pieces("GLBX.MDP3", "trades", "continuous", "ES.c.0", 0, 2**62)]
    await _until(lambda: len(cached()) >= 1 and len(cached()) == len(double.purchases()))
    kept, bought = cached(), len(double.purchases())
    assert 1 <= len(kept) < 3  # cancelled before the end: not everything was bought
    await history.load(request("r2"))
    again = [(int(f["start"]), int(f["end"])) for f in double.purchases()[bought:]]
    assert again and not any(s < e_end and s_end > e for s, s_end in again for e, e_end in kept)  # none bought twice
    assert len(cached()) == len(kept) + len(again)



async def test_a_cost_cap_refuses_and_buys_nothing(history, double):
    assert await history.load(request(symbols=("ES.c.0", "NQ.c.0")), max_cost_usd=0.000001) == 0
    assert "more than the $0.00 allowed" in finished(history.seen)[-1].message and double.purchases() == []


async def test_estimates_over_the_bus(history):
    history.bus.publish(EstimateHistory(request(symbols=("ES.c.0", "NQ.c.0"))))
    await _until(lambda: any(isinstance(e, HistoryEstimated) for e in history.seen))
    estimate = next(e for e in history.seen if isinstance(e, HistoryEstimated))
    assert estimate.size_bytes == 2 * 1800 * 48 and not estimate.fully_cached


async def test_errors_are_clear(history, double, secrets):
    secrets.set("databento-key", "db-WrongKeyForTheDouble000000Q1")
    assert await history.load(request()) == 0
    assert finished(history.seen)[-1].message == "Databento: Authentication failed."
    secrets.delete("databento-key")
    await history.load(request())
    assert "station secret set databento-key" in finished(history.seen)[-1].message
    secrets.set("databento-key", KEY)
    double.available_end_ns = int(DAY1.timestamp()) * 10**9
    await history.load(request())
    assert "after the available end" in finished(history.seen)[-1].message


async def test_a_cached_file_that_vanished_is_bought_again(history, double):
    await history.load(request())
    for path in (history.cache_dir).glob("*.dbn.zst"):
        path.unlink()
    await history.load(request("r2"))
    assert len(double.purchases()) == 2


# support.wait's helper with a longer deadline: downloads from the double come in delayed chunks
_until = functools.partial(wait.until, timeout=10.0)
