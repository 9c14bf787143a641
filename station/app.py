"""Composition root: builds Station's parts, wires them on the bus, starts and stops them in order."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol

from station import __version__
from station.bus import Bus
from station.domain.enums import ConnectionState
from station.domain.events import AccountReported, ConfigChanged, ConnectionChanged, ErrorRaised, ReceiverStarted
from station.queries import Queries
from station.store import Store
from station.store.config_repo import ConfigRepository
from station.store.ib_contract_repo import IbContractRepository
from station.secrets import SecretStore
from station.store.watcher import ConfigWatcher
from station.web.guard import AccessGuard, AccessSettings
from station.web.server import Receiver
from station.web.tradingview.service import WebhookService

log = logging.getLogger("station.app")

STOP_TIMEOUT_S = 1.5


@dataclass(frozen=True)
class Options:
    """How this Station runs (from the command line)."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8765
    demo: bool = False
    headless: bool = False


class Component(Protocol):
    """A part with a lifetime: started after the store, stopped before it closes."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    # optional: `async def closing(self)`, awaited before the receiver stops (close long-lived sessions)


class Station:
    """The trading core: everything but the window. Runs the same headless and in the GUI."""

    def __init__(self, options: Options, secrets: SecretStore) -> None:
        self.options = options
        self.secrets = secrets
        self.bus = Bus()
        self.store = Store(options.data_dir)
        self.config = ConfigRepository(self.store)
        self.ib_contracts = IbContractRepository(self.store)  # the IB contract table: read and edited by the window
        self.connections: dict[str, ConnectionChanged] = {}
        self.accounts: dict[tuple[str, str], AccountReported] = {}  # each broker account's last report
        # who may reach /api, Socket.IO and the dashboard (local or remote, Host/Origin), from the webhook settings
        self.guard = AccessGuard(lambda: AccessSettings.of(self.config.settings("webhook")), options.host)
        self.receiver = Receiver(options.host, options.port, status=self.status, middlewares=(self.guard.middleware(),))
        self.watcher = ConfigWatcher(self.config.revision, lambda rev: self.bus.publish(ConfigChanged(rev)))
        self.components: list[Component] = []
        self._build()
        self.bus.subscribe(ConnectionChanged, self._on_connection)
        self.bus.subscribe(AccountReported, lambda e: self.accounts.__setitem__((e.destination, e.account), e))
        self.bus.subscribe(ConfigChanged, self.guard.reload)
        # a change announced at once (the window announces its own saves) is not announced again by the watcher
        self.bus.subscribe(ConfigChanged, self._on_config_announced)
        self._started = False

    async def start(self) -> None:
        """Start every component, then listen; /health answers from then on."""
        loop = asyncio.get_running_loop()
        self.bus.bind(loop)
        install_exception_handlers(loop, self.bus)
        self.guard.reload()
        for component in self.components:
            await component.start()
        await self.watcher.start()
        await self.receiver.start()
        self._started = True
        # What start-up made (modules, classes, config) lives as long as Station: keep it out of the
        # collector's full passes, which otherwise stall the loop for tens of ms under a flood of alerts.
        gc.freeze()
        self.bus.publish(ReceiverStarted(self.receiver.host, self.receiver.port))
        self.bus.publish(ConnectionChanged("receiver", "receiver", ConnectionState.CONNECTED, self.receiver.url))
        log.info("Station %s started (data: %s)", __version__, self.options.data_dir)

    async def stop(self) -> None:
        """Stop listening (in-flight requests finish), stop components, commit, close the store."""
        try:
            for component in self.components:  # e.g. close websockets before the receiver waits on them
                closing = getattr(component, "closing", None)
                if closing is not None:
                    try:
                        await asyncio.wait_for(closing(), STOP_TIMEOUT_S)
                    except Exception:
                        log.exception("closing %s failed", getattr(component, "name", component))
            await self.receiver.stop()
            for component in reversed(self.components):
                try:
                    await asyncio.wait_for(component.stop(), STOP_TIMEOUT_S)
                except Exception:
                    log.exception("stopping %s failed", getattr(component, "name", component))
            await self.watcher.stop()
            try:
                await asyncio.wait_for(self.bus.drain(), STOP_TIMEOUT_S)
            except asyncio.TimeoutError:
                log.warning("bus handlers still running at shutdown")
        finally:
            self.store.close()
            log.info("Station stopped")

    def _build(self) -> None:
        """Create the components, in start order (each capability adds its line)."""
        from station.brokers.dispatcher import OrderDispatcher
        from station.brokers.registry import BrokerContext
        from station.engine.calendar import TradingCalendars
        from station.engine.runner import StrategyRunner
        from station.notify.chat import ChatNotifier
        from station.notify.email import EmailNotifier
        from station.notify.watch import ConnectionNotices
        from station.oms.service import OrderManager
        from station.domain.events import AlertDuplicated, RequestRefused
        from station.store.refusals_repo import RefusalRepository
        from station.web.api.refusals import install as install_refusals_api, refusal_json
        from station.store.duplicates_repo import DuplicateLog
        from station.store.engine_repo import EngineStateRepository
        from station.domain.commands import RenewSecret
        from station.store.record_reader import RecordReader
        from station.store.script_feed_repo import ScriptFeedRepository
        from station.store.strategy_switch import StrategySwitchRepository
        from station.web.api.routes import ApiParts, RestApi
        from station.web.dashboard.live import DashboardFeed
        from station.web.dashboard.page import DashboardPage
        from station.web.scripts.feed import FRONTENDS, ScriptFeed
        from station.web.secret_renewal import SecretRenewal

        options, add = self.options, self.components.append
        # exchange sessions: the engine's strategies and the oms's trading-window rule read the same calendars
        calendars = TradingCalendars()
        # the order pipeline; its inbox journals what the webhook accepts, and on start it routes
        # alerts journaled before a restart
        self.oms = OrderManager(self.bus, self.store, self.config, calendars=calendars, demo=options.demo)
        # the TradingView webhook; a new passphrase is printed once when headless (the window shows it)
        self.webhook = WebhookService(self.bus, self.oms.inbox, self.config, self.secrets, self.receiver,
                                      announce=_print_now if options.headless else None)
        add(self.webhook)
        add(self.oms)
        # the destinations, after the oms (it hears what they can do and reconciles what they report); they
        # take orders from the moment they are built. Paper fills at the feed's prices only: an order without
        # a price of its own and no feed is rejected, not filled at a price some earlier alert carried.
        context = BrokerContext(bus=self.bus, data_dir=options.data_dir, secrets=self.secrets,
                                last_price=self.oms.marks.feed_price, orders=self.oms.book,
                                contracts=IbContractRepository(self.store), settings=self.config.settings)
        self.dispatcher = OrderDispatcher(context, self.config.load,
                                          lambda: float(self.oms.settings("oms")["pending_limit_s"]))
        add(self.dispatcher)
        self.marketdata = _market_data(self)
        add(self.marketdata)
        # Station's own strategies: their signals enter the oms's inbox and pass its risk gate
        self.engine = StrategyRunner(self.bus, self.config.load, EngineStateRepository(self.store),
                                     log_dir=options.data_dir / "logs", history=self.marketdata,
                                     calendars=calendars, clock=self.marketdata.now)
        add(self.engine)
        self.rest = RestApi(self.receiver.app, bus=self.bus, secrets=self.secrets, parts=ApiParts(
            records=RecordReader(self.store), book=self.oms.book, config=self.config, edits=self.config,
            switch=StrategySwitchRepository(self.store), engine=self.engine))
        add(self.rest)
        uploads = ScriptFeedRepository(self.store)
        self.script_feed = ScriptFeed(self.receiver.app, uploads, uploads, self.bus, self.rest.token, self.guard)
        add(self.script_feed)
        # the browser dashboard at `/`: its files, and its live tables through the script feed's Socket.IO
        DashboardPage(self.receiver.app)
        self.dashboard_feed = DashboardFeed(self.bus, self.script_feed.sio, FRONTENDS, self.oms.book)
        add(self.dashboard_feed)
        renewal = SecretRenewal(self.bus, {"webhook-passphrase": self.webhook.regenerate_passphrase,
                                           "api-token": self.rest.token.regenerate})
        self.bus.subscribe(RenewSecret, renewal.on_renew)
        # skipped resends, counted by `station analyze`
        self.bus.subscribe(AlertDuplicated, DuplicateLog(self.store).on_duplicated)
        # refused webhook requests, the newest 10,000 (the Alerts dock, GET /api/refusals)
        self.refusals = RefusalRepository(self.store)
        self.bus.subscribe(RequestRefused, self.refusals.on_refused)
        install_refusals_api(self.receiver.app.router, self.refusals)
        self.dashboard_feed.relay(RequestRefused, "refusals", lambda e: (e.refusal.at, e.refusal.source, e.refusal.reason),
                                  lambda e: refusal_json(e.refusal))
        self.connection_notices = ConnectionNotices(self.bus)
        self.email = EmailNotifier(self.bus, lambda: self.config.settings("notifications"), self.secrets)
        add(self.email)
        self.chat = ChatNotifier(self.bus, lambda: self.config.settings("notifications"), self.secrets)  # Telegram, Discord
        add(self.chat)
        _credentials(self, add)

    def status(self) -> dict[str, Any]:
        """What /health reports besides `status`: links and their states."""
        return {"connections": {name: str(event.state) for name, event in self.connections.items()}}

    def queries(self) -> Queries:
        """The read interfaces over this Station (what the window reads through)."""
        from station.store.order_repo import OrderRepository
        from station.store.script_feed_repo import ScriptFeedRepository

        records = OrderRepository(self.store)  # the journal's alerts and the orders and fills they became
        return Queries(alerts=records, orders=records, book=self.oms.book, config=self.config, connections=self,
                       script_feed=ScriptFeedRepository(self.store), ib_contracts=self.ib_contracts,
                       engine=self.engine, refusals=self.refusals, market=self.marketdata, accounts=self)

    def latest_connections(self) -> list[ConnectionChanged]:
        """Each link's last reported state (`queries.ConnectionQueries`: a window opened late shows them)."""
        return list(self.connections.values())

    def latest_accounts(self) -> list[AccountReported]:
        """Each broker account's last reported money (`queries.AccountQueries`)."""
        return list(self.accounts.values())

    def _on_connection(self, event: ConnectionChanged) -> None:
        if event.state is ConnectionState.REMOVED:
            self.connections.pop(event.name, None)
        else:
            self.connections[event.name] = event

    def _on_config_announced(self, event: ConfigChanged) -> None:
        self.watcher.revision = max(self.watcher.revision, event.revision)


def _credentials(station: "Station", add: Callable[["Component"], None]) -> None:
    """The window's "Test key" / "Test connection" checks, Schwab's browser login and its expiry notice."""
    from station.brokers.credential_checks import CredentialChecks, check_ib, tastytrade_check
    from station.brokers.schwab.authorization import SchwabAuthorization
    from station.brokers.schwab.token_watch import SchwabTokenWatch
    from station.marketdata.databento.key_check import databento_key_check

    secrets, bus = station.secrets, station.bus
    gateway = lambda: station.config.settings("marketdata")["history_gateway"]  # noqa: E731
    add(CredentialChecks(bus, {"ib": check_ib, "tastytrade": tastytrade_check(secrets),
                               "databento": databento_key_check(secrets, gateway)}))
    add(SchwabAuthorization(bus, secrets, lambda: list(station.config.load().destinations),
                            station.options.data_dir / "tls"))
    add(SchwabTokenWatch(bus, secrets))


def _market_data(station: "Station"):
    """Bars, replay (the demo's sample), Databento live and history, from the `marketdata` settings."""
    from station.marketdata.service import MarketData
    from station.store.history_cache_repo import HistoryCacheRepository

    return MarketData(station.bus, station.secrets, lambda: station.config.settings("marketdata"),
                      demo=station.options.demo, data_dir=station.options.data_dir,
                      cache_index=HistoryCacheRepository(station.store))


Session = Callable[["Station", asyncio.Event], Awaitable[None]]


async def serve(options: Options, secrets: SecretStore, session: Session) -> int:
    """Start Station, run `session(station, stop_requested)` until it returns, stop Station; exit code 0.

    The one boot path for the window and headless: SIGINT/SIGTERM set `stop_requested`
    (the window closes itself on it); whatever happens, Station stops and commits.
    """
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop_requested.set)
        except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop_requested.set))
    station = Station(options, secrets)
    try:
        await station.start()
        await session(station, stop_requested)
    finally:
        await station.stop()
    return 0


def run_headless(options: Options, secrets: SecretStore) -> int:
    """Serve without a window until SIGINT/SIGTERM, then finish in-flight requests, commit and return 0."""
    with asyncio.Runner() as runner:
        return runner.run(serve(options, secrets, _headless))


async def _headless(station: "Station", stop_requested: asyncio.Event) -> None:
    gc.enable()  # off while starting (station/cli.py); what start-up made is frozen by Station.start
    print(f"Station listening on {station.receiver.url} (data: {station.options.data_dir})", flush=True)
    if station.rest.token.created:  # shown once, here, so a headless user can call /api at all
        print(f"Created the REST API token (secret api-token): {station.rest.token.current_value()}", flush=True)
    await stop_requested.wait()
    log.info("stop requested")


def _print_now(text: str) -> None:
    print(text, flush=True)


def install_exception_handlers(loop: asyncio.AbstractEventLoop, bus: Bus) -> None:
    """Uncaught exceptions in tasks, callbacks and Qt slots reach the log and the window."""

    def on_loop_error(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        message = context.get("message", "unhandled error")
        log.error("%s", message, exc_info=exc)
        detail = f"{type(exc).__name__}: {exc}" if exc else message
        bus.publish(ErrorRaised(source="loop", message=detail))

    def on_uncaught(kind, exc, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.error("uncaught exception", exc_info=(kind, exc, tb))
        bus.publish(ErrorRaised(source="slot", message=f"{kind.__name__}: {exc}"))

    loop.set_exception_handler(on_loop_error)
    sys.excepthook = on_uncaught
