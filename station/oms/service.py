"""The order manager: a Station component that wires inbox, router, risk, book, reports and reconciliation
on the bus. It sends through commands (`SubmitOrder`, `CancelOrder`) and never holds a broker."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from station.bus import Bus
from station.domain.alert import Alert
from station.domain.commands import (
    CancelOrder,
    ClosePosition,
    FlattenAll,
    ManualOrder,
    ProtectPosition,
    ReversePosition,
    SetKillSwitch,
    StartStrategy,
    StopStrategy,
)
from station.domain.config import RoutingConfig
from station.domain.enums import OrderStatus
from station.domain.orders import Order
from station.domain.events import (
    AlertReceived,
    BarUpdated,
    ConfigChanged,
    DestinationBuilt,
    FillReported,
    KillSwitchChanged,
    ManualActionCompleted,
    MarketDataReceived,
    Notified,
    OrderReplaced,
    OrderUpdated,
    OrderReported,
    PositionReported,
    PositionsMarked,
    ReportsReceived,
    TickReceived,
)
from station.domain.timeutil import EASTERN, to_eastern, utc_now
from station.oms import manual, protection
from station.oms.book import Book, OrderMeta, position_key
from station.oms.changes import OrderChanges
from station.oms.destinations import DestinationCapabilities
from station.oms.exits import ExitManager
from station.oms.inbox import AlertInbox, Click
from station.oms.marks import Marks
from station.oms.planner import Plan
from station.oms.reconciliation import Reconciliation
from station.oms.recorder import Recorder
from station.oms.reports import ReportApplier
from station.oms.risk import build_gate
from station.oms.risk.daily_loss import DailyLossGuard
from station.oms.risk.limits import RiskLimits
from station.oms.risk.window import SessionCalendars
from station.oms.router import Router
from station.store import order_repo as rows
from station.store.config_repo import ConfigRepository
from station.store.database import Store
from station.store.order_repo import OrderRepository

log = logging.getLogger("station.oms")

MARK_HZ = 4.0
PRICING_SAVE_S = 2.0  # how often the newest prices are written while they change (and at stop)


class OrderManager:
    """Routes alerts, signals and clicks to destinations and keeps the book (component `oms`)."""

    name = "oms"

    def __init__(self, bus: Bus, store: Store, config: ConfigRepository, *, calendars: SessionCalendars,
                 demo: bool = False) -> None:
        self.bus, self.store, self.config_repo = bus, store, config
        self.repo = OrderRepository(store)
        self.marks = Marks()
        self.book = Book(self.marks)
        self.config = RoutingConfig(revision=-1)
        self._settings: dict[str, dict] = {"risk": {}}
        # the limits read the config as the oms has it now (re-read on every change), never a copy
        self.limits = RiskLimits(lambda: self.config, lambda: self._settings["risk"])
        self.loss_guard = DailyLossGuard(bus, self.book, self.limits)
        self.gate = build_gate(self.book, self.limits, calendars, self.loss_guard.breached)
        self.destinations = DestinationCapabilities()
        self.recorder = Recorder(store.writer)
        self.reports = ReportApplier(bus, self.book, self.recorder, self.destinations)
        self.reconciliation = Reconciliation(self.reports)
        self.router = Router(bus, self.book, self.gate, self.recorder, self.destinations,
                             self.current_config, self._delay_s)
        self.exits = ExitManager(bus, self.book, self.reports, self.destinations, self.repo)
        self.changes = OrderChanges(bus, self.book, self.reports, self.destinations, self.exits)
        self.inbox = AlertInbox(bus, store, on_click=self._click)
        self._unsubscribe: list = []
        self._mark_task: asyncio.Task | None = None
        self._marked_version = -1
        self._saved_pricing: tuple = ()
        self._demo = demo
        self._stuck: set[str] = set()

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._demo:
            from station.oms.demo import seed_demo

            await seed_demo(self.config_repo)
        self._reload()
        self._load_book()
        self.recorder.start()
        self.exits.restore()  # held and working exits as the store has them, before anything is sent
        subscriptions = {
            AlertReceived: lambda e: self.router.on_alert(e.alert),
            DestinationBuilt: self.destinations.on_built,
            ReportsReceived: self.reconciliation.on_reports,
            OrderReported: self.reports.on_order_report,
            FillReported: self.reports.on_fill,
            PositionReported: self.reports.on_position_report,
            OrderReplaced: self.reports.on_replaced,
            TickReceived: self.marks.on_tick,
            BarUpdated: self.marks.on_bar,
            MarketDataReceived: self.marks.on_rows,
            ConfigChanged: self._on_config,
            FlattenAll: self.flatten_all,
            SetKillSwitch: self.set_kill_switch,
            StartStrategy: lambda c: self._set_enabled(c.name, True),
            StopStrategy: lambda c: self._set_enabled(c.name, False),
        }
        self._unsubscribe = [self.bus.subscribe(kind, handler) for kind, handler in subscriptions.items()]
        self._unsubscribe += [self.bus.subscribe(kind, handler) for kind, handler in self.changes.subscriptions().items()]
        self.exits.start()
        for order in self.book.pending():  # recorded before a restart and never sent: sent now, oldest first
            if order.request.replaces is None or order.request.replaces not in self.book.open:
                self.router.submit(order)
        self.inbox.start()
        for alert in self.inbox.queued():  # journaled before a crash or while we were down
            self.router.on_alert(alert)
        self._mark_task = asyncio.create_task(self._publish_marks(), name="oms-marks")
        await self.loss_guard.start()

    async def stop(self) -> None:
        self.inbox.stop()
        await self.exits.stop()
        await self.loss_guard.stop()
        self.router.cancel_timers()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._mark_task:
            self._mark_task.cancel()
            await asyncio.gather(self._mark_task, return_exceptions=True)
        self._save_pricing(lazy=False)
        await self.recorder.stop()

    def _load_book(self) -> None:
        for order, row in self.repo.orders(open_only=True):
            self.book.add_order(order, OrderMeta(row["cause"], row["pair_group"], row["leg"], Decimal(row["point_value"])),
                                row["exit_mode"])
        for position, at in self.repo.positions():
            self.book.set_position(position, at)
        self.book.fill_ids = self.repo.fill_ids()
        start_of_day = datetime.combine(to_eastern(utc_now()).date(), time(0), EASTERN)
        for strategy, realized in self.repo.realized_since(start_of_day).items():
            self.book.realized_by_day[(start_of_day.date(), strategy)] += realized
        self.book.restore_pricing(self.repo.state("pricing"))
        kill = self.repo.state("kill_switch")
        if kill:
            self.book.kill_switch_reason = kill["reason"]
            self.book.kill_switch_since = datetime.fromisoformat(kill["since"])

    # ---- configuration ---------------------------------------------------------------------------

    def current_config(self) -> RoutingConfig:
        """The routing config, re-read if any process changed it since (a cheap revision check)."""
        if self.config_repo.revision() != self.config.revision:
            self._reload()
        return self.config

    def _reload(self) -> None:
        self.config = self.config_repo.load()
        self._settings = {name: self.config_repo.settings(name) for name in ("webhook", "risk", "oms")}

    def _on_config(self, event: ConfigChanged) -> None:
        self._reload()

    def settings(self, name: str) -> dict[str, Any]:
        """The settings section `name` as the oms has it now (`webhook`, `risk`, `oms`)."""
        return self._settings[name]

    def _delay_s(self, alert: Alert) -> float:
        names = [alert.strategy] if alert.strategy else [s.name for s in self.config.strategies_listing(alert.ticker)]
        own = [float(s.options.get("delay_s") or 0) for s in map(self.config.strategy, names) if s is not None]
        return max(own) if any(own) else float(self._settings["webhook"].get("delay_s") or 0)

    async def _set_enabled(self, name: str, enabled: bool) -> None:
        # "*" (the Engine dock's Start all / Stop all) means every strategy the engine runs, as it does there
        names = ([s.name for s in self.current_config().strategies if s.options.get("engine")]
                 if name in ("*", "all") else [name])
        try:
            for each in names:
                await self.config_repo.set_strategy_enabled(each, enabled)
        except KeyError:
            self.bus.publish(Notified("Strategy", f"no strategy named {name!r}", "warning"))

    # ---- manual commands ---------------------------------------------------------------------------

    def _manual(self, click_id: str, build) -> asyncio.Future | None:
        try:
            plan: Plan = build()
        except manual.ManualError as exc:
            self.bus.publish(ManualActionCompleted(click_id, (), str(exc)))
            return None

        def done(inserted: list[str], refusals: list[str]) -> None:
            rejected = [c for c in inserted if self.book.orders.get(c) and self.book.orders[c].status is OrderStatus.REJECTED]
            error = "; ".join(refusals) if refusals and len(rejected) == len(inserted) else None
            self.bus.publish(ManualActionCompleted(click_id, tuple(inserted), error))

        return self.router.record(plan, done)

    def _click(self, command: Click):
        """A manual click from the inbox: Buy/Sell, Close or Reverse."""
        if isinstance(command, ManualOrder):
            return self.manual_order(command)
        if isinstance(command, ClosePosition):
            return self.close_position(command)
        if isinstance(command, ProtectPosition):
            return self.protect_position(command)
        return self.reverse_position(command)

    def manual_order(self, command: ManualOrder):
        return self._manual(command.click_id, lambda: manual.order_plan(command, self.current_config(), self.book))

    def close_position(self, command: ClosePosition):
        where = f" at {command.destination}" if command.destination else ""
        return self._manual(command.click_id, lambda: manual.check_closing(manual.closing_plan(
            manual.manual_cause(command.click_id), self.book, strategy=command.strategy, ticker=command.ticker,
            destination=command.destination), f"for {command.strategy} / {command.ticker}{where}"))

    def reverse_position(self, command: ReversePosition):
        where = f" at {command.destination}" if command.destination else ""
        return self._manual(command.click_id, lambda: manual.check_closing(manual.closing_plan(
            manual.manual_cause(command.click_id), self.book, strategy=command.strategy, ticker=command.ticker,
            reverse=True, destination=command.destination), f"for {command.strategy} / {command.ticker}{where}"))

    def protect_position(self, command: ProtectPosition) -> asyncio.Future | None:
        """Add stop/target: the exits are recorded (held), then put to work at once by the exit manager."""
        try:
            requests = protection.protection_exits(command, self.book, self.current_config())
        except manual.ManualError as exc:
            self.bus.publish(ManualActionCompleted(command.click_id, (), str(exc)))
            return None
        cause = manual.manual_cause(command.click_id)
        position = self.book.positions.get(position_key(command.destination, command.ticker, command.strategy))
        meta = OrderMeta(cause, point_value=position.multiplier)
        made = [Order(r, status=OrderStatus.HELD) for r in requests if r.client_order_id not in self.book.orders]
        for order in made:
            self.book.add_order(order, meta)
        items = [rows.NewOrder(o, cause, None, None, meta.point_value) for o in made]

        def after(inserted: list[str]) -> None:
            for order in made:
                self.bus.publish(OrderUpdated(order))
            self.exits.protect([o for o in made if o.client_order_id in inserted])
            self.bus.publish(ManualActionCompleted(command.click_id, tuple(r.client_order_id for r in requests)))

        def failed(exc) -> None:
            for order in made:
                self.book.forget(order.client_order_id)
            self.bus.publish(ManualActionCompleted(command.click_id, (), f"not recorded: {exc}"))

        return self.recorder.write(lambda conn: rows.insert_orders(conn, items), after, failed)

    async def flatten_all(self, command: FlattenAll) -> None:
        """Cancel every working order and held exit, then close every open position."""
        for order in self.book.open_orders():
            self.bus.publish(CancelOrder(order.client_order_id))
        cause = f"x{uuid.uuid4().hex[:12]}"
        plan = manual.closing_plan(cause, self.book)
        log.warning("flatten all (%s): %d positions", command.reason, len(plan.orders))

        def done(inserted: list[str], refusals: list[str]) -> None:  # the button's status: done, not just sent
            if command.click_id:
                self.bus.publish(ManualActionCompleted(command.click_id, tuple(inserted), "; ".join(refusals) or None))

        await self.router.record(plan, done)

    async def set_kill_switch(self, command: SetKillSwitch) -> None:
        now = utc_now()
        if command.engaged:
            self.book.kill_switch_reason, self.book.kill_switch_since = command.reason or "manual", now
            value = {"reason": self.book.kill_switch_reason, "since": now.isoformat()}
        else:
            self.book.kill_switch_reason, self.book.kill_switch_since, value = None, None, None
        await self.recorder.write(lambda conn: rows.set_state(conn, "kill_switch", value))
        self.bus.publish(KillSwitchChanged(command.engaged, command.reason))
        level, text = ("error", f"Kill switch engaged ({command.reason}): flattening, trading halted") \
            if command.engaged else ("info", "Kill switch re-armed: trading resumes")
        self.bus.publish(Notified("Kill switch", text, level))
        if command.engaged:
            await self.flatten_all(FlattenAll(reason=f"kill switch: {command.reason}"))

    # ---- marks --------------------------------------------------------------------------------

    def _save_pricing(self, *, lazy: bool = True) -> None:
        """Keep the newest prices and the positions' pricing times (oms_state `pricing`) when they changed."""
        version = (self.marks.version, len(self.book.fill_ids), len(self.book.priced_at))
        if version == self._saved_pricing:
            return
        self._saved_pricing = version
        value = self.book.pricing()
        self.recorder.write(lambda conn: rows.set_state(conn, "pricing", value), lazy=lazy)

    def check_stuck(self) -> list[str]:
        """Market orders sent but neither filled nor refused after `oms.stuck_order_s`: notify once each."""
        limit = float(self._settings["oms"]["stuck_order_s"])
        now, stuck = utc_now(), []
        for order in self.book.open_orders():
            request = order.request
            if (request.order_type.value != "market" or order.status is OrderStatus.NEW
                    or not self.destinations.reports_fills(request.destination) or order.client_order_id in self._stuck):
                continue
            if (now - order.updated_at).total_seconds() > limit:
                self._stuck.add(order.client_order_id)
                stuck.append(order.client_order_id)
                self.bus.publish(Notified("Order stuck", f"{order.client_order_id} at {request.destination} is "
                                          f"{order.status} for more than {int(limit)} s", "warning"))
        return stuck

    async def _publish_marks(self) -> None:
        """Positions at the latest marks, a few times a second while anything moves; stuck orders each second."""
        ticks = 0
        while True:
            await asyncio.sleep(1.0 / MARK_HZ)
            ticks += 1
            if ticks % int(MARK_HZ) == 0:
                self.check_stuck()
            if ticks % int(MARK_HZ * PRICING_SAVE_S) == 0:
                self._save_pricing()
            version = (self.marks.version, len(self.book.fill_ids), len(self.book.positions))
            if version != self._marked_version and self.book.positions:
                self._marked_version = version
                self.bus.publish(PositionsMarked(tuple(self.book.marked_positions())))
