"""A strategy's entry that every destination refused leaves the strategy flat (station/engine/outcomes.py),
so its next exit does not open the other side; an entry taken anywhere keeps the strategy's position."""

import asyncio
import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from support.engine_bars import read_trades, time_bars, to_bars, write_trades_dbn
from support.wait import until
from station.bus import Bus
from station.domain.commands import RecordSignal
from station.domain.enums import OrderStatus
from station.domain.events import BarUpdated, Notified, OrderUpdated
from station.domain.orders import Order, OrderRequest
from station.engine.calendar import TradingCalendars
from station.engine.runner import StrategyRunner
from station.store import Store
from station.store.config_repo import ConfigRepository
from station.store.engine_repo import EngineStateRepository

SESSION = dt.datetime(2025, 3, 3, 14, 30, tzinfo=dt.timezone.utc)
CROSS = {"kind": "crossover", "timeframe": "1m", "line1": {"type": "ema", "period": 5},
         "line2": {"type": "sma", "period": 13}, "qty": 1}


@pytest.fixture(scope="module")
def bars(tmp_path_factory):
    path = write_trades_dbn(tmp_path_factory.mktemp("dbn") / "mes.dbn", {"MES": 5800.0}, 20_000, SESSION, 3 * 3600, seed=9)
    return to_bars(time_bars(read_trades(path), "1min"), "MES", "1m")


@pytest.fixture
async def engine(data_dir):
    store = Store(data_dir)
    config = ConfigRepository(store)
    config.import_document({"strategies": {"Cross": {"engine": CROSS, "tickers": {"MES": {}}}}})
    bus, seen = Bus(), []
    for kind in (RecordSignal, Notified):
        bus.subscribe(kind, seen.append)
    runner = StrategyRunner(bus, config.load, EngineStateRepository(store), history=None, calendars=TradingCalendars(),
                            log_dir=data_dir / "logs", clock=lambda: SESSION + dt.timedelta(hours=8), clock_interval_s=3600)
    await runner.start()
    await runner.ready()
    assert await runner.start_strategy("Cross")
    yield runner, bus, seen, store
    await runner.stop()
    store.close()


def first_entry(bus, seen, bars):
    """Feed bars until the strategy enters; its entry signal as journaled (an alert with an id)."""
    for bar in bars:
        bus.publish(BarUpdated(bar))
        commands = [c for c in seen if isinstance(c, RecordSignal)]
        if commands:
            return dataclasses.replace(commands[0].alert, alert_id=101), bars.index(bar)
    raise AssertionError("no entry in the session")


def order(alert, destination, status, filled="0"):
    request = OrderRequest(client_order_id=f"a{alert.alert_id}-Cross-{destination}", destination=destination,
                           ticker="MES", side=alert.action, qty=Decimal(1), strategy="Cross",
                           alert_id=alert.alert_id, alert=alert)
    return Order(request, status=status, filled_qty=Decimal(filled), reason=f"{destination} said no")


async def test_an_entry_refused_everywhere_makes_the_strategy_flat_and_its_exit_is_never_sent(engine, bars):
    runner, bus, seen, store = engine
    entry, at = first_entry(bus, seen, bars)
    instance = runner.groups["Cross"].instances[0]
    assert instance.position != 0 and instance.entry_signal == entry.trade_id
    for destination in ("paper", "ib"):
        bus.publish(OrderUpdated(order(entry, destination, OrderStatus.NEW)))
    for destination in ("paper", "ib"):  # one refused first: the other is still open, nothing changes yet
        bus.publish(OrderUpdated(order(entry, destination, OrderStatus.REJECTED)))
    await until(lambda: instance.position == 0, what="flat once refused everywhere")
    assert instance.entry_signal is None
    notice = [n for n in seen if isinstance(n, Notified)][-1]
    assert "paper said no" in notice.message and "ib said no" in notice.message
    store.writer.call(lambda conn: None)
    assert EngineStateRepository(store).load("Cross")["MES"]["position"] == 0  # a restart keeps it flat

    for bar in bars[at + 1:]:
        bus.publish(BarUpdated(bar))
    later = [c.alert for c in seen if isinstance(c, RecordSignal)][1:]
    assert later and later[0].position == "flat"  # the next signal opens afresh; no exit of the refused entry


async def test_an_entry_taken_at_one_destination_keeps_the_position(engine, bars):
    runner, bus, seen, _store = engine
    entry, _ = first_entry(bus, seen, bars)
    instance = runner.groups["Cross"].instances[0]
    held = instance.position
    bus.publish(OrderUpdated(order(entry, "paper", OrderStatus.FILLED, filled="1")))
    bus.publish(OrderUpdated(order(entry, "ib", OrderStatus.REJECTED)))
    await asyncio.sleep(0)  # one turn of the loop: the outcome is judged then (call_soon), not after a time
    assert instance.position == held and instance.entry_signal == entry.trade_id
    assert not [n for n in seen if isinstance(n, Notified)]
