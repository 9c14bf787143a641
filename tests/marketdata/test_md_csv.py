"""Market data CSV from scripts: parsed whole or not at all, each bad line named; rows feed the bars."""

import asyncio
from datetime import datetime, timezone

import pytest

from station.bus import Bus
from station.domain.events import BarUpdated, MarketDataReceived, TickReceived
from station.web.scripts.rows import CsvRowError as CsvError
from station.web.scripts.rows import parse_market_data as parse_market_data_csv
from station.marketdata.hub import BarHub

HEADER = "timestamp,symbol,open,high,low,close,volume,rsi,signal_strength\n"


def test_good_rows_parse_with_optional_columns():
    rows = parse_market_data_csv(HEADER + "2025-05-15T14:30:00Z,es,5900,5901.5,5899.75,5901,120,55.2,0.8\n"
                                          "1747319460,ES,5901,5902,5900.5,5901.25,80,,\n\n")
    assert [(r.symbol, r.open, r.high, r.low, r.close, r.volume, r.rsi, r.signal_strength) for r in rows] == [
        ("ES", 5900, 5901.5, 5899.75, 5901, 120, 55.2, 0.8), ("ES", 5901, 5902, 5900.5, 5901.25, 80, None, None)]
    assert rows[0].time == datetime(2025, 5, 15, 14, 30, tzinfo=timezone.utc)
    assert rows[1].time == datetime(2025, 5, 15, 14, 31, tzinfo=timezone.utc)
    ms = parse_market_data_csv("timestamp,symbol,open,high,low,close,volume\n1747319400000,NQ,1,1,1,1,0\n")
    assert ms[0].time == datetime(2025, 5, 15, 14, 30, tzinfo=timezone.utc)


def test_every_bad_line_is_named_and_nothing_is_used():
    text = HEADER + ("2025-05-15T14:30:00Z,ES,5900,5901,5899,5900,10,,\n"
                     "yesterday,ES,1,1,1,1,1,,\n"
                     "2025-05-15T14:31:00Z,ES,5900,5899,5901,5900,10,,\n"
                     "2025-05-15T14:32:00Z,,5900,5901,5899,5900,10,,\n"
                     "2025-05-15T14:33:00Z,ES,abc,5901,5899,5900,10,,\n"
                     "2025-05-15T14:34:00Z,ES,5900,5901,5899,5900,-1,,\n")
    with pytest.raises(CsvError) as caught:
        parse_market_data_csv(text)
    assert [line for line, _ in caught.value.problems] == [3, 4, 5, 6, 7]
    assert "timestamp 'yesterday'" in caught.value.problems[0][1] and "do not contain" in caught.value.problems[1][1]
    assert "line 6: open 'abc' is not a number" in str(caught.value)
    with pytest.raises(CsvError, match="missing column\\(s\\) close"):
        parse_market_data_csv("timestamp,symbol,open,high,low\n")
    assert parse_market_data_csv("") == []  # an upload may carry trades only


async def test_rows_on_the_bus_become_bars_and_a_last_price():
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    hub = BarHub(bus, timeframes=("5m",))
    await hub.start()
    seen = []
    bus.subscribe(BarUpdated, seen.append)
    bus.subscribe(TickReceived, seen.append)
    rows = parse_market_data_csv(HEADER + "".join(
        f"2025-05-15T14:3{m}:00Z,ES,{5900 + m},{5902 + m},{5899 + m},{5901 + m},100,,\n" for m in range(6)))
    bus.publish(MarketDataReceived(tuple(rows), "script"))
    closed = [e.bar for e in seen if isinstance(e, BarUpdated) and e.bar.closed]
    assert [(b.open, b.high, b.low, b.close, b.volume) for b in closed] == [(5900, 5906, 5899, 5905, 500)]
    assert [e.tick.price for e in seen if isinstance(e, TickReceived)] == [5906]
    await hub.stop()
