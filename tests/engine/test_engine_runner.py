"""The runner on a real store and bus: warm-up, live bars, RecordSignal commands, visible states,
restart mid-session without a repeated signal, kill switch, trade_enabled, 0DTE buttons, log files."""

import datetime as dt

import pytest

from support.engine_bars import read_trades, time_bars, tick_bars, to_bars, write_trades_dbn
from support.wait import until
from station.bus import Bus
from station.domain.commands import (
    BuyZeroDte, CloseZeroDte, HaltStrategy, RecordSignal, RequestBars, SetKillSwitch, StartStrategy, StopStrategy,
)
from station.domain.enums import OptionRight
from station.domain.events import BarUpdated, ConfigChanged, Notified, StrategySignalled, StrategyStateChanged
from station.domain.marketdata import Bar
from station.engine.calendar import TradingCalendars
from station.engine.history import ListHistory
from station.engine.runner import StrategyRunner
from station.engine.strategies.crossover import Crossover
from station.store import Store
from station.store.config_repo import ConfigRepository
from station.store.engine_repo import EngineStateRepository

UTC = dt.timezone.utc
SESSION = dt.datetime(2025, 3, 3, 14, 30, tzinfo=UTC)
CROSS = {"kind": "crossover", "timeframe": "1m", "line1": {"type": "ema", "period": 5},
         "line2": {"type": "sma", "period": 13}, "qty": 1}


@pytest.fixture(scope="module")
def session_bars(tmp_path_factory):
    path = write_trades_dbn(tmp_path_factory.mktemp("dbn") / "mes.dbn", {"MES": 5800.0}, 40_000, SESSION, 6.5 * 3600, seed=9)
    trades = read_trades(path)
    return {"1m": to_bars(time_bars(trades, "1min"), "MES", "1m"), "512t": to_bars(tick_bars(trades, 512), "MES", "512t")}


@pytest.fixture(scope="module")
def calendars():
    return TradingCalendars()


class Harness:
    """A store, a config, a bus that records what the runner publishes, and runners built on them."""

    def __init__(self, data_dir, calendars):
        self.data_dir = data_dir
        self.store = Store(data_dir)
        self.config = ConfigRepository(self.store)
        self.repo = EngineStateRepository(self.store)
        self.calendars = calendars
        self.bus = Bus()
        self.seen = []
        for kind in (RecordSignal, StrategyStateChanged, StrategySignalled, RequestBars, Notified):
            self.bus.subscribe(kind, self.seen.append)

    def of(self, kind):
        return [m for m in self.seen if isinstance(m, kind)]

    def runner(self, history=None, clock=None):
        return StrategyRunner(self.bus, self.config.load, self.repo, history=history, calendars=self.calendars,
                              log_dir=self.data_dir / "logs", clock=clock or (lambda: SESSION + dt.timedelta(hours=8)),
                              clock_interval_s=3600)

    def feed(self, bars):
        for bar in bars:
            self.bus.publish(BarUpdated(bar))

    def close(self):
        self.store.close()


@pytest.fixture
def harness(data_dir, calendars):
    h = Harness(data_dir, calendars)
    yield h
    h.close()


def configure(harness, name="Cross", engine=None, tickers=("MES",), **extra):
    harness.config.import_document({"strategies": {name: {"engine": engine or CROSS, **extra,
                                                          "tickers": {t: {} for t in tickers}}}})


def uninterrupted(bars, params=CROSS, ticker="MES", name="Cross"):
    strategy = Crossover(name, ticker, params)
    out = []
    for bar in bars:
        out += strategy.on_bar(bar)
    return [s.signal_id for s in out]


async def running(harness, name="Cross", **runner_args):
    """A started runner with strategy `name` running."""
    runner = harness.runner(**runner_args)
    await runner.start()
    await runner.ready()
    assert await runner.start_strategy(name)
    return runner


async def trade_then_exit(harness, bars):
    """A runner with no history that trades `bars` live, then stops with its state committed (a process exiting)."""
    runner = await running(harness)
    harness.feed(bars)
    await runner.stop()
    harness.store.writer.call(lambda conn: None)
    return runner


async def test_start_warm_up_run_and_signals_become_record_signal_commands(harness, session_bars):
    bars = session_bars["1m"]
    configure(harness)
    runner = harness.runner(history=ListHistory(bars[:80]), clock=lambda: bars[80].start)
    await runner.start()
    await runner.ready()
    assert runner.groups["Cross"].state == "stopped"
    assert await runner.start_strategy("Cross")
    assert [(e.state, e.reason) for e in harness.of(StrategyStateChanged)] == [
        ("stopped", ""), ("warming_up", ""), ("running", "")]
    assert [(c.symbol, c.timeframe) for c in harness.of(RequestBars)] == [("MES", "1m")]
    harness.feed(bars[80:])
    commands = harness.of(RecordSignal)
    want = [sid for sid in uninterrupted(bars) if sid > f"Cross:MES:1m:{bars[80].start:%Y%m%dT%H%M%S}"]
    phantom, *want = want  # history ended in a position nothing traded: the strategy starts flat, no exit of it
    assert phantom.endswith((":XL", ":XS")) and runner.groups["Cross"].instances[0].position != 0
    assert [c.alert.trade_id for c in commands] == want and len(want) >= 4
    alert = commands[0].alert
    assert alert.source == "strategy" and alert.strategy == "Cross" and alert.ticker == "MES"
    assert alert.position in ("flat", "long", "short") and alert.price is not None
    assert all(e.traded for e in harness.of(StrategySignalled))
    await runner.stop()
    log_file = harness.data_dir / "logs" / "strategies" / "Cross.log"
    assert "warmed up on 67 bars" in log_file.read_text()  # 13 x 5 + 2 and want[0] in log_file.read_text()


async def test_restart_mid_session_repeats_no_signal_and_misses_none(harness, session_bars):
    bars = session_bars["512t"]
    configure(harness, engine={**CROSS, "timeframe": "512t"})
    cut = len(bars) // 2
    first = harness.runner(history=ListHistory(bars[:20]), clock=lambda: bars[20].start)
    await first.start()
    await first.ready()
    await first.start_strategy("Cross")
    harness.feed(bars[20:cut])
    await first.stop()
    harness.store.writer.call(lambda conn: None)  # everything queued is committed
    # a new process: history now holds every bar so far; the feed re-sends the last bar it had
    second = harness.runner(history=ListHistory(bars[:cut]), clock=lambda: bars[cut].start)
    await second.start()
    await second.ready()  # resumes by itself: it was running
    assert second.groups["Cross"].state == "running"
    harness.feed(bars[cut - 1:])
    ids = [c.alert.trade_id for c in harness.of(RecordSignal)]
    assert len(ids) == len(set(ids))
    want = [sid for sid in uninterrupted(bars, {**CROSS, "timeframe": "512t"}) if sid > f"Cross:MES:512t:{bars[20].start:%Y%m%dT%H%M%S}"]
    phantom, *want = want  # the first start was flat, whatever position the 20 bars of history implied
    assert phantom.endswith((":XL", ":XS"))
    assert ids == want and len(want) >= 4
    await second.stop()


async def test_a_replay_started_again_is_caught_up_on_muted_then_trades_as_if_never_stopped(harness, session_bars):
    bars = session_bars["1m"]
    configure(harness)
    await trade_then_exit(harness, bars[:200])
    # the replay begins again: history is only its first bars; the bars up to the cut come again live
    second = harness.runner(history=ListHistory(bars[:30]), clock=lambda: bars[30].start)
    await second.start()
    await second.ready()
    harness.feed(bars[30:])
    ids = [c.alert.trade_id for c in harness.of(RecordSignal)]
    assert ids == uninterrupted(bars) and len(ids) >= 8
    assert {e.signal_id for e in harness.of(StrategySignalled)} == set(ids)  # nothing shown twice either
    await second.stop()


async def test_restart_keeps_the_traded_position_when_history_disagrees(harness, session_bars):
    bars = session_bars["1m"]
    configure(harness)
    runner = await trade_then_exit(harness, bars[:150])
    position = runner.groups["Cross"].instances[0].position
    assert position != 0
    # the history source now only has a short, different stretch: the traded state wins
    again = harness.runner(history=ListHistory(bars[140:150]), clock=lambda: bars[150].start)
    await again.start()
    await again.ready()
    assert again.groups["Cross"].instances[0].position == position
    await again.stop()


async def test_stop_kill_switch_and_start_refused_while_engaged(harness, session_bars):
    bars = session_bars["1m"]
    configure(harness)
    runner = harness.runner()
    await runner.start()
    await runner.ready()
    harness.bus.publish(StartStrategy("Cross"))
    await until(lambda: runner.groups["Cross"].state == "running", what="started")
    assert "no history source" in runner.groups["Cross"].reason
    harness.bus.publish(StopStrategy("Cross"))
    assert runner.groups["Cross"].state == "stopped"
    harness.feed(bars[:200])
    assert harness.of(RecordSignal) == []  # a stopped strategy sees no bars
    harness.bus.publish(StartStrategy("all"))
    await until(lambda: all(g.state == "running" for g in runner.groups.values()), what="all started")
    harness.bus.publish(SetKillSwitch(True, reason="panic"))
    assert (runner.groups["Cross"].state, runner.groups["Cross"].reason) == ("halted", "kill switch: panic")
    assert not await runner.start_strategy("Cross")
    assert runner.groups["Cross"].reason == "the kill switch is engaged"
    harness.bus.publish(SetKillSwitch(False))
    assert await runner.start_strategy("Cross")
    # the wish to run is written by the store's writer thread: wait for its commit
    await until(lambda: harness.repo.desired() == {"Cross": "running"}, what="the start persisted")
    await runner.stop()


async def test_trade_disabled_signals_are_shown_not_sent(harness, session_bars):
    configure(harness, engine={**CROSS, "trade_enabled": False})
    runner = harness.runner()
    await runner.start()
    await runner.ready()
    await runner.start_strategy("Cross")
    harness.feed(session_bars["1m"][:200])
    shown = harness.of(StrategySignalled)
    assert shown and all(not e.traded and e.note == "trade_enabled is off" for e in shown)
    assert harness.of(RecordSignal) == []
    await runner.stop()


async def test_a_strategy_error_halts_it_with_the_reason(harness, session_bars, monkeypatch):
    configure(harness)
    runner = harness.runner()
    await runner.start()
    await runner.ready()
    await runner.start_strategy("Cross")

    def broken(self, bar):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(Crossover, "_on_bar", broken)
    harness.feed(session_bars["1m"][:1])
    group = runner.groups["Cross"]
    assert group.state == "halted" and "ZeroDivisionError: boom" in group.reason
    await runner.stop()


async def test_bad_ticker_override_halts_with_the_config_error(harness):
    harness.config.import_document({"strategies": {"Cross": {"engine": CROSS, "tickers": {
        "MES": {"engine": {"line1": {"type": "sma", "period": 3}}}, "ES": {"engine": {"warmup_bars": 5}}}}}})
    runner = harness.runner()
    await runner.start()
    await runner.ready()
    assert await runner.start_strategy("Cross")
    periods = {i.ticker: i.lines.line1.period for i in runner.groups["Cross"].instances}
    assert periods == {"MES": 3, "ES": 5}
    await runner.stop()


async def test_config_change_restarts_a_running_strategy_with_the_new_parameters(harness):
    configure(harness)
    runner = harness.runner()
    await runner.start()
    await runner.ready()
    await runner.start_strategy("Cross")
    configure(harness, engine={**CROSS, "line2": {"type": "sma", "period": 30}})
    await runner.reload()
    group = runner.groups["Cross"]
    assert group.state == "running" and group.instances[0].lines.line2.period == 30
    configure(harness, name="Other")
    harness.bus.publish(ConfigChanged(99))
    await until(lambda: "Other" in runner.groups, what="the new config applied")
    assert runner.groups["Other"].state == "stopped"
    await runner.stop()


async def test_a_halted_strategy_stays_halted_with_its_reason_when_its_config_changes(harness):
    configure(harness)
    runner = await running(harness)
    harness.bus.publish(HaltStrategy("Cross", "daily loss limit 100 reached"))
    configure(harness, engine=CROSS, risk={"daily_loss_limit": 200})
    await runner.reload()
    group = runner.groups["Cross"]
    assert (group.state, group.reason) == ("halted", "daily loss limit 100 reached")
    assert group.config.options["risk"]["daily_loss_limit"] == 200
    await runner.stop()


async def test_zero_dte_buttons_through_the_bus(harness, calendars):
    engine = {"kind": "zero_dte", "timeframe": "1m", "signal_symbol": "MES", "underlying": "SPX",
              "line1": {"type": "sma", "period": 1}, "line2": {"type": "sma", "period": 3}}
    configure(harness, name="Zero", engine=engine, tickers=("SPXW",))
    now = dt.datetime(2024, 1, 4, 16, 0, tzinfo=UTC)  # 11:00 ET
    runner = harness.runner(clock=lambda: now)
    await runner.start()
    await runner.ready()
    await runner.start_strategy("Zero")
    harness.bus.publish(BarUpdated(Bar("SPX", "1m", now, 4751, 4752, 4750, 4751.2, closed=False)))
    harness.bus.publish(BuyZeroDte("k1", "Zero", OptionRight.CALL))
    harness.bus.publish(BuyZeroDte("k1", "Zero", OptionRight.CALL))  # the same click resent: nothing new
    harness.bus.publish(CloseZeroDte("k2", "Zero"))
    harness.bus.publish(CloseZeroDte("k3", "Zero"))
    harness.bus.publish(BuyZeroDte("k4", "Cross-does-not-exist", OptionRight.PUT))
    commands = harness.of(RecordSignal)
    assert [(c.alert.action.value, c.alert.extra["instrument"]["osi"], c.alert.trade_id) for c in commands] == [
        ("buy", "SPXW  240104C04750000", "Zero:SPXW:manual:k1:C"),
        ("sell", "SPXW  240104C04750000", "Zero:SPXW:manual:k2:X"),
    ]
    notes = [n.message for n in harness.of(Notified)]
    assert any("no option is held" in n for n in notes) and any("not a 0DTE strategy" in n for n in notes)
    # the auto-close runs on the runner's clock
    harness.bus.publish(BuyZeroDte("k5", "Zero", OptionRight.PUT))
    runner.on_clock(dt.datetime(2024, 1, 4, 20, 45, tzinfo=UTC))  # 15:45 ET
    assert harness.of(RecordSignal)[-1].alert.trade_id == "Zero:SPXW:autoclose:20240104:XP"
    await runner.stop()
