"""The strategy runner: routes closed bars to running strategies and turns their signals into commands.

Per strategy: start (warm-up from history, then live), stop, halt with a reason; the
trading state is persisted after every signal and restored after a restart, and signal
ids are deterministic, so a restart never repeats a signal. Manual 0DTE buttons and the
kill switch arrive as commands on the bus.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Protocol

from station.bus import Bus
from station.domain.alert import Alert
from station.domain.commands import (
    BuyZeroDte, CloseZeroDte, HaltStrategy, ReleaseBars, RequestBars, SetKillSwitch, StartStrategy, StopStrategy,
)
from station.domain.config import RoutingConfig
from station.domain.events import (
    BarUpdated, ConfigChanged, ManualActionCompleted, Notified, OrderUpdated, StrategyStateChanged,
)
from station.domain.timeutil import utc_now
from station.engine.bar_routes import BarRoutes
from station.engine.calendar import TradingCalendars, calendar_names
from station.engine import resume
from station.engine.group import HALTED, RUNNING, STOPPED, WARMING_UP, StrategyGroup
from station.engine.history import BarHistory
from station.engine.outcomes import EntryOutcomes
from station.engine.signals import Signal
from station.engine.strategies.base import Strategy
from station.engine.buttons import zero_dte_press
from station.engine.strategies.zero_dte import ZeroDteRefused

log = logging.getLogger("station.engine")


class EngineState(Protocol):
    """Where the runner keeps what must survive a restart (`station.store.engine_repo.EngineStateRepository`)."""

    async def desired_in_order(self) -> dict[str, str]: ...
    def set_run_state(self, strategy: str, desired: str | None, state: str, reason: str = "") -> Any: ...
    def load(self, strategy: str) -> dict[str, dict[str, Any]]: ...
    def save(self, strategy: str, ticker: str, state: dict[str, Any], last_signal_id: str | None) -> Any: ...


class StrategyRunner:
    """Runs every strategy whose config has an `engine` object (a component: `start`/`stop`).

    `clock` is the market's time (a replay's while replaying): the warm-up's end, time-of-day
    decisions and manual 0DTE presses go by it; signals are journaled at the wall time.
    """

    name = "engine"

    def __init__(self, bus: Bus, load_config: Callable[[], RoutingConfig], state: EngineState | None = None, *,
                 history: BarHistory | None = None, calendars: TradingCalendars | None = None,
                 log_dir: Path | None = None, clock: Callable[[], datetime] = utc_now,
                 clock_interval_s: float = 1.0) -> None:
        self.bus = bus
        self.load_config = load_config
        self.store = state
        self.history = history
        self.calendars = calendars or TradingCalendars()
        self.log_dir = log_dir
        self.clock = clock
        self.clock_interval_s = clock_interval_s
        self.groups: dict[str, StrategyGroup] = {}
        self.kill_switch = False
        self.routes = BarRoutes()
        self._catching_up: dict[Strategy, dict[str, Any]] = {}  # instance -> traded state it catches up to
        self._unsubscribe: list[Callable[[], None]] = []
        self.outcomes = EntryOutcomes(self._entry_refused)
        self._tasks: set[asyncio.Task] = set()
        self._clock_task: asyncio.Task | None = None
        self._ready: asyncio.Task | None = None
        self._reloading = asyncio.Lock()
        self._wishes: dict[str, int] = {}  # per strategy, how often this process changed whether it should run

    # ---- lifetime --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the config, load the exchange calendars (in a thread), resume what was running."""
        ready = self._when_ready
        for kind, handler in ((BarUpdated, self.on_bar_event), (StartStrategy, ready(self._on_start)),
                              (StopStrategy, ready(self._on_stop)), (SetKillSwitch, self._on_kill_switch),
                              (ConfigChanged, self._on_config), (BuyZeroDte, ready(self._on_zero_dte)),
                              (CloseZeroDte, ready(self._on_zero_dte)), (HaltStrategy, ready(self._on_halt)),
                              (OrderUpdated, self.outcomes.on_order)):
            self._unsubscribe.append(self.bus.subscribe(kind, handler))
        # calendars and history may take a while: resume in the background so start-up (and /health) never waits
        self._ready = asyncio.create_task(self.follow_config(wait=True), name="engine-resume")
        self._clock_task = asyncio.create_task(self._tick(), name="engine-clock")

    async def ready(self) -> None:
        """Wait until the config is read and the strategies left running are running again."""
        if self._ready is not None:
            await asyncio.shield(self._ready)

    async def follow_config(self, *, wait: bool = False) -> list[asyncio.Future]:
        """Take the config, then start or stop strategies as last asked (REST, command line, window,
        before a restart); the warm-ups of what it starts (awaited with `wait`)."""
        if wait:
            return await asyncio.gather(*await self.follow_config())
        async with self._reloading:  # one reload at a time: each reads the config as it is by then
            await self.reload()
            asked = dict(self._wishes)
            desired = await self.store.desired_in_order() if self.store else {}
            starts = []
            for name, group in list(self.groups.items()):
                if self._wishes.get(name) != asked.get(name):
                    continue  # asked here while the wishes were read: that is newer than what was read
                wanted = desired.get(name)
                if wanted == "running" and not group.active and group.config.enabled and not self.kill_switch:
                    starts.append(self._spawn(self.start_strategy(name)))
                elif wanted == "stopped" and group.active:
                    self.stop_strategy(name, "stopped by the trader")
            return starts

    async def stop(self) -> None:
        """Persist every strategy's state; they resume on the next start."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        tasks = [t for t in (self._ready, self._clock_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for group in self.groups.values():
            if group.active:
                self._persist_all(group)
            group.close()

    # ---- config ----------------------------------------------------------------------------------

    async def reload(self) -> None:
        """Take the config as it is now: new strategies appear stopped, changed running ones restart."""
        config = self.load_config()
        wanted = {s.name: s for s in config.strategies if s.options.get("engine")}
        await asyncio.to_thread(lambda: [self.calendars.load(n) for n in calendar_names(config)])
        for name in list(self.groups):
            group = self.groups[name]
            if name not in wanted or wanted[name] != group.config or not wanted[name].enabled:
                was_active, halted = group.active, group.reason if group.state == HALTED else None
                # a changed one keeps what the trader asked (a start written with its enabling, say)
                keep = name in wanted and wanted[name].enabled
                self._deactivate(group, STOPPED, "removed from the config" if name not in wanted else "",
                                 desired=None if keep else "stopped")
                group.close()
                del self.groups[name]
                if was_active and name in wanted and wanted[name].enabled:
                    self.groups[name] = self._group(wanted[name])
                    await self.start_strategy(name)
                elif halted is not None and name in wanted:  # e.g. by its loss limit: it stays halted, and why
                    self._set_state(self.groups.setdefault(name, self._group(wanted[name])), HALTED, halted)
        for name, config_ in wanted.items():
            if name not in self.groups:
                group = self.groups[name] = self._group(config_)
                reason = "disabled in the config" if not config_.enabled else (group.error or "")
                self._set_state(group, STOPPED, reason)

    def _group(self, config) -> StrategyGroup:
        group = StrategyGroup(config, self.calendars, self.log_dir)
        group.build()
        return group

    # ---- start / stop / halt ---------------------------------------------------------------------

    async def start_strategy(self, name: str) -> bool:
        """Warm up and run one strategy; False (with the reason shown) when it cannot."""
        group = self.groups.get(name)
        if group is None:
            self.bus.publish(Notified("Strategy", f"no engine strategy named {name!r}", "warning"))
            return False
        if group.active:
            return True
        if self.kill_switch:
            self._set_state(group, HALTED, "the kill switch is engaged")
            return False
        if not group.config.enabled:
            # a trader's start enables it in the config too (the oms's part of StartStrategy), maybe just after
            # this: kept as the wish, it starts when that change arrives (`follow_config`)
            self._set_state(group, STOPPED, "disabled in the config", desired="running")
            return False
        group.build()
        if group.error:
            self._set_state(group, HALTED, group.error)
            return False
        self._set_state(group, WARMING_UP, "", desired="running")
        self.routes.add(group)
        for symbol, timeframe in sorted(group.subscriptions()):
            self.bus.publish(RequestBars(symbol, timeframe, requester=f"strategy:{name}"))
        try:
            await self._warm_up(group)
        except Exception as exc:  # a history source that fails must not take the engine down
            group.log.exception("%s: warm-up failed", name)
            self._deactivate(group, HALTED, f"warm-up failed: {type(exc).__name__}: {exc}")
            return False
        if group.state != WARMING_UP:  # stopped or halted while waiting for history
            return False
        buffered, group.buffer = group.buffer, []
        self._set_state(group, RUNNING, "" if self.history else "no history source: indicators warm on live bars")
        for instance, bar in buffered:
            self._feed(group, instance, bar)
        return group.state == RUNNING

    def stop_strategy(self, name: str, reason: str = "") -> None:
        """Stop one strategy (its state is kept for the next start)."""
        group = self.groups.get(name)
        if group is not None:
            self._deactivate(group, STOPPED, reason)

    def halt(self, name: str, reason: str) -> None:
        """Stop a strategy because something went wrong (loss limit, kill switch, error): shown with `reason`."""
        group = self.groups.get(name)
        if group is not None and group.state != HALTED:
            self._deactivate(group, HALTED, reason)

    def _deactivate(self, group: StrategyGroup, state: str, reason: str, desired: str | None = "stopped") -> None:
        if group.active:
            self._persist_all(group)
            for symbol, timeframe in sorted(group.subscriptions()):
                self.bus.publish(ReleaseBars(symbol, timeframe, requester=f"strategy:{group.name}"))
        self.routes.remove(group)
        group.buffer.clear()
        for instance in group.instances:
            self._catching_up.pop(instance, None)
        self._set_state(group, state, reason, desired=desired)

    def _set_state(self, group: StrategyGroup, state: str, reason: str, desired: str | None = None) -> None:
        group.state, group.reason = state, reason
        if desired is not None:
            self._wishes[group.name] = self._wishes.get(group.name, 0) + 1
        if self.store is not None:  # what it shows, also for `station strategy list` in another process
            self.store.set_run_state(group.name, desired, state, reason)
        group.log.info("%s is %s%s", group.name, state.replace("_", " "), f": {reason}" if reason else "")
        self.bus.publish(StrategyStateChanged(group.name, state, reason, kind=group.kind))

    async def _warm_up(self, group: StrategyGroup) -> None:
        """Feed history silently, then take back the traded state (`station.engine.resume`)."""
        end = self.clock()
        persisted = self.store.load(group.name) if self.store else {}
        for instance in group.instances:
            pending = await resume.warm_up(instance, self.history, end, persisted.get(instance.ticker), group.log)
            if pending is not None:
                self._catching_up[instance] = pending

    # ---- bars, clock, signals --------------------------------------------------------------------

    def on_bar_event(self, event: BarUpdated) -> None:
        """The hot path: a bar from market data goes to the strategies subscribed to its series."""
        bar = event.bar
        key = (bar.symbol, bar.timeframe)
        if not bar.closed:
            for instance in self.routes.prices.get(key, ()):
                instance.on_price(bar.symbol, bar.close)
            return
        for group, instance in self.routes.closed.get(key, ()):
            if group.state == WARMING_UP:
                group.buffer.append((instance, bar))
            else:
                self._feed(group, instance, bar)

    def _feed(self, group: StrategyGroup, instance: Strategy, bar) -> None:
        saved = self._catching_up.get(instance)
        if saved is not None and resume.caught_up(bar, saved):
            del self._catching_up[instance]
            resume.restore(instance, saved, group.log)
            saved = None
        try:
            signals = instance.on_bar(bar)
        except Exception as exc:  # a strategy bug halts that strategy only
            group.log.exception("%s %s failed on a bar", group.name, instance.ticker)
            self.halt(group.name, f"error on {bar.symbol} {bar.timeframe} bar: {type(exc).__name__}: {exc}")
            return
        if signals and saved is None:  # while catching up, these were signalled before the restart
            self.emit(group, instance, signals)
        if instance.events:
            for event in instance.events:
                self.bus.publish(event)
            instance.events.clear()

    def emit(self, group: StrategyGroup, instance: Strategy, signals: list[Signal], *, manual: bool = False) -> None:
        """Publish signals (RecordSignal when traded), then persist the instrument's state."""
        now = utc_now()  # when Station journals it: wall time, also when the strategy runs on a replay's clock
        for signal in signals:
            note = ""
            if group.state != RUNNING and not manual:
                note = f"strategy is {group.state}"
            elif not group.trade_enabled and not manual:
                note = "trade_enabled is off"
            if not note:
                self.bus.publish(signal.command(now))
            group.log.info("%s %s %s %s %s -> %s (%s)%s [%s]", signal.strategy, signal.action, signal.qty, signal.ticker,
                           signal.position, signal.target_position, signal.reason, f" not traded: {note}" if note else "",
                           signal.signal_id)
            self.bus.publish(signal.signalled(note, now))
        if self.store is not None:
            self.store.save(group.name, instance.ticker, instance.state(), signals[-1].signal_id)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.clock_interval_s)
            self.on_clock(self.clock())

    def on_clock(self, now: datetime) -> None:
        """Time-based decisions of running strategies (e.g. the 0DTE auto-close)."""
        for group in list(self.groups.values()):
            if group.state != RUNNING:
                continue
            for instance in group.instances:
                if instance in self._catching_up:
                    continue
                try:
                    signals = instance.on_clock(now)
                except Exception as exc:
                    group.log.exception("%s %s failed on the clock", group.name, instance.ticker)
                    self.halt(group.name, f"error: {type(exc).__name__}: {exc}")
                    break
                if signals:
                    self.emit(group, instance, signals)

    # ---- commands --------------------------------------------------------------------------------

    def _when_ready(self, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        """A command handler that waits until the config is read and resumed (a click during start-up counts)."""
        async def after_ready(command: Any) -> None:
            await self.ready()
            handler(command)
        return lambda command: handler(command) if self._ready is None or self._ready.done() \
            else self._spawn(after_ready(command))

    def _names(self, name: str) -> list[str]:
        # a name the engine does not run is an alert strategy: the oms starts and stops those
        return list(self.groups) if name in ("*", "all") else [name] if name in self.groups else []

    def _on_start(self, command: StartStrategy) -> None:
        for name in self._names(command.name):
            self._spawn(self.start_strategy(name))

    def _on_stop(self, command: StopStrategy) -> None:
        for name in self._names(command.name):
            self.stop_strategy(name, "stopped by the trader")

    def _on_halt(self, command: HaltStrategy) -> None:
        for name in self._names(command.name):
            if self.groups[name].active:
                self.halt(name, command.reason)

    def _on_kill_switch(self, command: SetKillSwitch) -> None:
        self.kill_switch = command.engaged
        if command.engaged:
            for name, group in self.groups.items():
                if group.active:
                    self.halt(name, f"kill switch: {command.reason}")

    def _on_config(self, event: ConfigChanged) -> None:
        self._spawn(self.follow_config())

    def _on_zero_dte(self, command: BuyZeroDte | CloseZeroDte) -> None:
        group, right, error = self.groups.get(command.strategy), getattr(command, "right", None), None
        try:
            for instance, signals in zero_dte_press(group, command.strategy, right, command.click_id, self.clock(),
                                                    self.kill_switch):
                self.emit(group, instance, signals, manual=True)
        except ZeroDteRefused as exc:
            log.warning("0DTE %s on %s refused: %s", right or "close", command.strategy, exc)
            self.bus.publish(Notified("0DTE", f"{command.strategy}: {exc}", "warning"))
            error = str(exc)
        self.bus.publish(ManualActionCompleted(command.click_id, (), error))  # the REST API answers by it

    def _spawn(self, coro) -> asyncio.Future:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- outcomes and persistence ---------------------------------------------------------------

    def _entry_refused(self, alert: Alert, reasons: str) -> None:
        """Every order of a strategy's entry was refused: that strategy is flat again (see outcomes.py)."""
        group = self.groups.get(alert.strategy or "")
        if group is None:
            return
        for instance in group.instances:
            if instance.ticker == alert.ticker and instance.entry_refused(alert.trade_id or "", reasons):
                if self.store is not None and instance not in self._catching_up:
                    self.store.save(group.name, instance.ticker, instance.state(), None)
                self.bus.publish(Notified(f"{group.name}: entry refused",
                                          f"{instance.ticker}: every order of the entry was refused ({reasons}); "
                                          "the strategy is flat again", "warning"))
                self.bus.publish(StrategyStateChanged(group.name, group.state, group.reason, kind=group.kind))

    def _persist_all(self, group: StrategyGroup) -> None:
        if self.store is not None:
            for instance in group.instances:
                # one still catching up keeps the traded state it has not reached yet
                state = self._catching_up.get(instance) or instance.state()
                self.store.save(group.name, instance.ticker, state, None)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every engine strategy as the Strategies dock shows it."""
        return [group.snapshot() for group in self.groups.values()]

