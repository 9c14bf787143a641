"""The runner follows the trader's switch (REST, `station strategy`, window) on every config change: a start
written with its enabling runs the strategy, a stop ends it, a halt is not undone by a reload, and the
runner's own writes are never read back stale."""

from __future__ import annotations

import pytest

from support.wait import until
from station.bus import Bus
from station.domain.commands import HaltStrategy, StartStrategy
from station.domain.events import ConfigChanged
from station.engine.calendar import TradingCalendars
from station.engine.runner import StrategyRunner
from station.store import Store
from station.store.config_repo import ConfigRepository
from station.store.engine_repo import EngineStateRepository
from station.store.strategy_switch import StrategySwitchRepository

CROSS = {"kind": "crossover", "timeframe": "1m", "line1": {"type": "ema", "period": 5},
         "line2": {"type": "sma", "period": 13}}


@pytest.fixture
async def engine(data_dir):
    store = Store(data_dir)
    config = ConfigRepository(store)
    config.import_document({"strategies": {"Cross": {"enabled": False, "engine": CROSS, "tickers": {"MES": {}}},
                                           "Plain": {"tickers": {"ES": {}}}}})
    bus = Bus()
    runner = StrategyRunner(bus, config.load, EngineStateRepository(store), calendars=TradingCalendars(),
                            clock_interval_s=3600)
    await runner.start()
    await runner.ready()
    runner.switch, runner.config = StrategySwitchRepository(store), config
    yield runner
    await runner.stop()
    store.close()


def state(runner, name="Cross") -> str:
    return runner.groups[name].state


async def test_a_start_written_with_its_enabling_runs_the_strategy_and_a_stop_ends_it(engine):
    assert state(engine) == "stopped" and engine.groups["Cross"].reason == "disabled in the config"
    engine.bus.publish(ConfigChanged(await engine.switch.set_running("Cross", True)))
    await until(lambda: state(engine) == "running", what="started by the switch")
    engine.bus.publish(ConfigChanged(await engine.switch.set_running("Cross", False)))
    await until(lambda: state(engine) == "stopped", what="stopped by the switch")
    with pytest.raises(KeyError):
        await engine.switch.set_running("Nope", True)


async def test_a_change_made_elsewhere_is_followed_from_the_revision_alone(engine):
    engine.switch.set_running_now("Cross", True)  # as `station strategy start` in another process writes it
    await engine.follow_config(wait=True)
    assert state(engine) == "running"
    await engine.switch.store.writer.run(lambda conn: None)  # what it shows is committed by then
    assert engine.switch.listing(station_running=True)[0][:3] == ("Cross", "crossover", "running")


async def test_a_halt_stays_until_the_trader_starts_again(engine):
    await engine.switch.set_running("Cross", True)
    await engine.follow_config(wait=True)
    engine.bus.publish(HaltStrategy("Cross", "daily loss limit 100 reached"))
    await until(lambda: state(engine) == "halted")
    await engine.config.update_settings("risk", {})  # any later change of the config: still halted
    await engine.follow_config(wait=True)
    assert (state(engine), engine.groups["Cross"].reason) == ("halted", "daily loss limit 100 reached")
    engine.bus.publish(ConfigChanged(await engine.switch.set_running("Cross", True)))
    await until(lambda: state(engine) == "running", what="started again by the trader")


async def test_its_own_start_is_not_undone_by_a_reload_right_after(engine):
    await engine.switch.set_running("Cross", True)
    await engine.follow_config(wait=True)
    engine.stop_strategy("Cross", "stopped by the trader")  # the window's Stop: the runner writes `stopped`
    engine.bus.publish(StartStrategy("Cross"))  # and Start again at once
    await engine.follow_config(wait=True)  # a reload reads the wish after the runner's own writes
    await until(lambda: state(engine) == "running")


async def test_a_start_clicked_while_the_strategy_is_disabled_runs_once_the_enabling_arrives(engine):
    """The window's Start sends StartStrategy, which the oms answers by enabling the strategy in the config: the
    runner may see the click before that change (Stop all disabled it a moment ago). The click is not lost."""
    engine.bus.publish(StartStrategy("Cross"))
    await until(lambda: engine.groups["Cross"].reason == "disabled in the config", what="the click seen first")
    assert state(engine) == "stopped"
    await engine.config.set_strategy_enabled("Cross", True)  # the oms's part of the same click, just after
    engine.bus.publish(ConfigChanged(engine.config.revision()))
    await until(lambda: state(engine) == "running", what="running once enabled")
