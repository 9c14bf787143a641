"""Events: facts that happened, named in the past tense, published on the bus.

One file past 400 lines on purpose: it is the bus's vocabulary (frozen dataclasses, no logic) that every
layer imports; read in one place it says everything that can happen, and split by area its types would
import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from decimal import Decimal

from station.domain.alert import Alert
from station.domain.destinations import BrokerCapabilities, BrokerReports
from station.domain.enums import ConnectionState, OrderStatus
from station.domain.fills import Fill
from station.domain.marketdata import Bar, BarColumns, MarketDataRow, Tick
from station.domain.orders import Order, OrderRequest
from station.domain.pnl import MarkedPosition
from station.domain.refusals import Refusal
from station.domain.positions import Position
from station.domain.script_feed import ScriptUpload
from station.domain.timeutil import utc_now


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event."""


@dataclass(frozen=True, slots=True)
class ReceiverStarted(Event):
    """The HTTP receiver listens and /health answers."""

    host: str
    port: int


@dataclass(frozen=True, slots=True)
class AlertReceived(Event):
    """An alert was journaled (committed) and answered "Alert queued"."""

    alert: Alert


@dataclass(frozen=True, slots=True)
class AlertDuplicated(Event):
    """An alert equal to a recent one arrived and was skipped."""

    original_alert_id: int
    ticker: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class AlertStatusChanged(Event):
    """An alert left `queued`: routed, unrouted or rejected (the subclasses), with the reason if any.

    The window and the API follow an alert's status through these; nothing polls for it.
    """

    alert_id: int

    @property
    def status(self) -> str:
        return self.STATUS

    @property
    def why(self) -> str | None:
        return getattr(self, "reason", None)


@dataclass(frozen=True, slots=True)
class AlertRouted(AlertStatusChanged):
    """An alert was turned into orders (`client_order_ids`); `reason` notes destinations that refused."""

    STATUS = "routed"
    client_order_ids: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AlertUnrouted(AlertStatusChanged):
    """An alert made no order, with the reason (no strategy lists its ticker, risk, …)."""

    STATUS = "unrouted"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AlertRejected(AlertStatusChanged):
    """An alert was refused by a risk rule or the kill switch (journaled, never traded)."""

    STATUS = "rejected"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderUpdated(Event):
    """An order was created or changed status (submitted, working, filled, rejected, …)."""

    order: Order


@dataclass(frozen=True, slots=True)
class OrderFilled(Event):
    """A (partial) fill arrived; `order` is the order after it."""

    order: Order
    fill: Fill


@dataclass(frozen=True, slots=True)
class OrderReported(Event):
    """A destination says what became of an order (the oms applies it to the book)."""

    destination: str
    client_order_id: str
    status: OrderStatus
    broker_order_id: str | None = None
    reason: str | None = None
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True, slots=True)
class FillReported(Event):
    """A destination reports an execution (the oms applies it once, by `fill.fill_id`)."""

    fill: Fill


@dataclass(frozen=True, slots=True)
class PositionReported(Event):
    """A destination's own view of a position (reconciliation; the oms compares and corrects)."""

    destination: str
    ticker: str
    qty: Decimal
    avg_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderReplaced(Event):
    """A destination changed a working order as asked (`ReplaceOrder`): `request` is the order as it now stands."""

    destination: str
    request: OrderRequest


@dataclass(frozen=True, slots=True)
class ExitsAttached(Event):
    """A destination took an entry's protective exits with it in one request (native brackets): from now on the
    destination works them, and reports them like any order."""

    destination: str
    entry_id: str
    exit_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExitsDetached(Event):
    """A destination refused an entry's exits in its native form (nothing of the bracket was placed): the entry
    goes alone and Station holds the exits and works them on its prices (`reason` is the destination's)."""

    destination: str
    entry_id: str
    exit_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class StopMoved(Event):
    """A trailing stop followed a better price: it now stands at `stop_price`."""

    destination: str
    client_order_id: str
    stop_price: Decimal


@dataclass(frozen=True, slots=True)
class OrderActionRefused(Event):
    """A destination could not cancel (`action` "cancel") or change ("change") an order, and why."""

    destination: str
    client_order_id: str
    action: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderChanged(Event):
    """The answer to `ChangeOrder`: the order as it now stands is `client_order_id` (a new id when it was
    cancelled and replaced), or `error` says why nothing changed."""

    request_id: str
    client_order_id: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ReportsReceived(Event):
    """A destination (re)connected and said what it holds (`reports(since)`); the oms reconciles the book
    with it before anything new is sent there."""

    reports: BrokerReports


@dataclass(frozen=True, slots=True)
class DestinationBuilt(Event):
    """A destination was made from the config (or a strategy's port); what it can do."""

    name: str
    kind: str
    capabilities: BrokerCapabilities


@dataclass(frozen=True, slots=True)
class PortfolioReported(Event):
    """A broker account's own position and PnL for one contract (IB's portfolio updates)."""

    destination: str
    account: str
    ticker: str
    qty: Decimal
    avg_price: Decimal | None = None
    market_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    realized_pnl: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ContractResolved(Event):
    """A destination looked a symbol up (answer to `ResolveContract`): the contract in words, or why not."""

    destination: str
    symbol: str
    description: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class PositionChanged(Event):
    """A position changed after a fill or a reconciliation."""

    position: Position


@dataclass(frozen=True, slots=True)
class ConnectionChanged(Event):
    """A link changed state; `kind` groups lights (broker, feed, ninjatrader, receiver)."""

    name: str
    kind: str
    state: ConnectionState
    detail: str = ""


@dataclass(frozen=True, slots=True)
class TickReceived(Event):
    """A trade print from a feed."""

    tick: Tick


@dataclass(frozen=True, slots=True)
class BarUpdated(Event):
    """A bar in progress changed (`bar.closed` is False) or a bar closed (True)."""

    bar: Bar


@dataclass(frozen=True, slots=True)
class ScriptDataReceived(Event):
    """An external script's trades and market data were stored (one upload)."""

    upload: ScriptUpload


@dataclass(frozen=True, slots=True)
class BarsLoaded(Event):
    """The bars of a symbol and timeframe so far, answering `RequestBars` (requester "" after a backfill: for all)."""

    bars: BarColumns
    requester: str = ""


@dataclass(frozen=True, slots=True)
class MarketDataReceived(Event):
    """OHLCV rows arrived from a script (market data CSV); they feed the bar builders like trades."""

    rows: tuple[MarketDataRow, ...]
    source: str = "script"


@dataclass(frozen=True, slots=True)
class HistoryEstimated(Event):
    """What loading a history request would buy: cost and size of the part not yet cached."""

    request_id: str
    cost_usd: float
    size_bytes: int
    fully_cached: bool


@dataclass(frozen=True, slots=True)
class HistoryProgressed(Event):
    """A history load advanced: `done` of `total` pieces, `bytes_received` so far."""

    request_id: str
    done: int
    total: int
    bytes_received: int


@dataclass(frozen=True, slots=True)
class HistoryFinished(Event):
    """A history load ended: loaded (`ok`), cancelled or failed, with a message for the trader."""

    request_id: str
    ok: bool
    message: str
    records: int = 0


@dataclass(frozen=True, slots=True)
class ConfigChanged(Event):
    """Strategies, destinations or settings changed (in this process or by `station config import`)."""

    revision: int


@dataclass(frozen=True, slots=True)
class SecretChanged(Event):
    """A secret was set or renewed in the keyring; whoever holds it reads it again (its value never travels here)."""

    name: str


@dataclass(frozen=True, slots=True)
class NotificationTested(Event):
    """The answer to `SendTestNotification`: whether the test e-mail went out, or why not."""

    request_id: str
    ok: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorRaised(Event):
    """Something failed that the trader should see (an uncaught exception, a lost peer)."""

    source: str
    message: str
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True, slots=True)
class Notified(Event):
    """A message for the trader's attention (tray notification, e-mail, chat).

    `kind` names what it is about, so a notifier can route or group it (e.g. `schwab-token-expiry`).
    """

    title: str
    message: str
    level: str = "info"
    kind: str = ""


@dataclass(frozen=True, slots=True)
class StrategyStateChanged(Event):
    """An engine strategy is now `stopped`, `warming_up`, `running` or `halted` (`reason` says why)."""

    name: str
    state: str
    reason: str = ""
    kind: str = ""
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True, slots=True)
class KillSwitchChanged(Event):
    """The kill switch was engaged (everything flattened, every strategy halted) or re-armed."""

    engaged: bool
    reason: str = ""
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True, slots=True)
class StrategySignalled(Event):
    """An engine strategy made a signal; `traded` is False when it was not sent (and `note` says why)."""

    strategy: str
    ticker: str
    action: str
    signal_id: str
    price: float | None
    qty: Decimal
    reason: str
    position: str
    target_position: str
    traded: bool
    note: str = ""
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True, slots=True)
class PairUpdated(Event):
    """A pairs strategy's spread after a bar: its mean and σ over the lookback, and the distance in σ."""

    strategy: str
    pair: str
    ticker1: str
    ticker2: str
    hedge: float
    spread: float
    mean: float | None
    std: float | None
    distance: float | None
    position: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ManualActionCompleted(Event):
    """A manual command (`click_id`) was handled: the orders it made, or why it made none."""

    click_id: str
    client_order_ids: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PositionsMarked(Event):
    """Every position at the latest marks (published a few times a second while prices move)."""

    positions: tuple[MarkedPosition, ...]


@dataclass(frozen=True, slots=True)
class AccountReported(Event):
    """A broker account's money as its destination reports it (None: the broker does not say)."""

    destination: str
    account: str
    balance: Decimal | None = None  # net liquidation value: cash and positions at market
    buying_power: Decimal | None = None
    day_pnl: Decimal | None = None  # today's change as the broker counts it
    currency: str = "USD"
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True, slots=True)
class RequestRefused(Event):
    """The webhook answered a request with a 4xx (recorded as a refusal; it made no alert)."""

    refusal: Refusal


@dataclass(frozen=True, slots=True)
class CredentialsTested(Event):
    """The answer to `TestCredentials`: did it work, and what the service said (never a secret)."""

    request_id: str
    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class BrokerAuthorizationStarted(Event):
    """A browser login is under way: open `url`; the redirect is caught at `callback_url` when `listening`."""

    request_id: str
    url: str
    callback_url: str
    listening: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class BrokerAuthorized(Event):
    """A browser login ended: the refresh token is stored (ok) or why not."""

    request_id: str
    ok: bool
    message: str
    issued_at: datetime | None = None
