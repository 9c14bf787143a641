"""Commands: requests to act, named in the imperative, published on the bus."""

from __future__ import annotations

from dataclasses import dataclass

from decimal import Decimal

from station.domain.alert import Alert
from station.domain.enums import OptionRight, Side
from station.domain.instructions import ExitLevel, Offset, OrderInstructions
from station.domain.marketdata import HistoryRequest
from station.domain.orders import OrderRequest


@dataclass(frozen=True, slots=True)
class Command:
    """Base of every command."""


@dataclass(frozen=True, slots=True)
class SubmitOrder(Command):
    """Send an order to its destination (the oms publishes it once the order passed the risk check and,
    unless the destination drops repeats, once its row is committed). A bracket's entry carries its held
    exits: a destination with native brackets takes them in the same request (`ExitsAttached` says so);
    elsewhere they stay with the oms's exit manager until the entry fills."""

    request: OrderRequest
    exits: tuple[OrderRequest, ...] = ()


@dataclass(frozen=True, slots=True)
class CancelOrder(Command):
    """Cancel a working order by its client order id (one never sent is withdrawn at once)."""

    client_order_id: str


@dataclass(frozen=True, slots=True)
class ReplaceOrder(Command):
    """Change a working order's quantity or prices (None: unchanged) at its destination: in place where the
    destination can, else by cancelling it there and sending it again; answered by `OrderReplaced`."""

    client_order_id: str
    qty: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FlattenAll(Command):
    """Close every open position at every destination (a `click_id` is answered by `ManualActionCompleted`)."""

    reason: str = "manual"
    click_id: str = ""


@dataclass(frozen=True, slots=True)
class SetKillSwitch(Command):
    """Engage (flatten everything, halt every strategy) or re-arm the kill switch."""

    engaged: bool
    reason: str = "manual"


@dataclass(frozen=True, slots=True)
class StartStrategy(Command):
    """Start trading a strategy."""

    name: str


@dataclass(frozen=True, slots=True)
class StopStrategy(Command):
    """Stop trading a strategy."""

    name: str


@dataclass(frozen=True, slots=True)
class RecordSignal(Command):
    """Journal a strategy's signal like an alert (source "strategy"), then route it.

    `alert.trade_id` carries the signal id; recording the same signal id twice
    (e.g. after a restart) journals and routes it once.
    """

    alert: Alert


@dataclass(frozen=True, slots=True)
class ManualOrder(Command):
    """A Buy/Sell click (or `POST /api/orders`): routed to the destinations of the strategy's ticker like an
    alert, with the alert's order instructions (type, prices, tif, stop-loss, take-profit, trailing stop);
    `destination` limits it to one of them."""

    click_id: str
    strategy: str
    ticker: str
    side: Side
    qty: Decimal | None = None
    instructions: OrderInstructions | None = None
    destination: str | None = None


@dataclass(frozen=True, slots=True)
class ClosePosition(Command):
    """Close one strategy's position in one ticker at every destination (or one) and cancel its protective
    orders."""

    click_id: str
    strategy: str
    ticker: str
    destination: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeOrder(Command):
    """Change a working or held order's quantity or prices (None: unchanged), as the trader asks (the REST
    API's PATCH, the chart's drag): the oms changes it in place where it can, else cancels it and places a
    replacement with a new client order id (`replaces`/`replaced_by`); answered by `OrderChanged`."""

    request_id: str
    client_order_id: str
    qty: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ReversePosition(Command):
    """Turn one strategy's position in one ticker into the same size the other way (at one destination, or all)."""

    click_id: str
    strategy: str
    ticker: str
    destination: str | None = None


@dataclass(frozen=True, slots=True)
class ProtectPosition(Command):
    """Add a stop-loss or a trailing stop, and/or a take-profit, to a position already held (the Positions dock's
    Add stop/target, `POST /api/positions/protect`): one OCO group of protective exits for the part of it not yet
    protected, put to work at once as a filled bracket's are. A level is a price, or an offset from the
    position's average price; a trailing stop's offset trails the best price from the market's now. Answered by
    `ManualActionCompleted`."""

    click_id: str
    strategy: str | None
    ticker: str
    destination: str
    stop_loss: ExitLevel | None = None
    take_profit: ExitLevel | None = None
    trailing_stop: Offset | None = None


@dataclass(frozen=True, slots=True)
class BuyZeroDte(Command):
    """Buy today's at-the-money option (`right` "call" or "put") of a 0DTE strategy, closing the other one first.

    Published by the manual Call/Put buttons and the REST API; `click_id` makes the
    signal (and so every order) unique to this press.
    """

    click_id: str
    strategy: str
    right: OptionRight


@dataclass(frozen=True, slots=True)
class CloseZeroDte(Command):
    """Close the option a 0DTE strategy holds (the manual Close button)."""

    click_id: str
    strategy: str


@dataclass(frozen=True, slots=True)
class HaltStrategy(Command):
    """Halt an engine strategy (`*` for all) with the reason shown to the trader; it stays halted until started again."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class RequestBars(Command):
    """Build `timeframe` bars of `symbol` live and answer with `BarsLoaded` (the history so far)."""

    symbol: str
    timeframe: str
    requester: str


@dataclass(frozen=True, slots=True)
class ReleaseBars(Command):
    """The requester no longer needs these bars (a chart closed or switched)."""

    symbol: str
    timeframe: str
    requester: str


@dataclass(frozen=True, slots=True)
class EstimateHistory(Command):
    """Ask what a history request would cost (answered by `HistoryEstimated`)."""

    request: HistoryRequest


@dataclass(frozen=True, slots=True)
class LoadHistory(Command):
    """Load history into the bars: from the local cache, buying only what is missing, up to `max_cost_usd`."""

    request: HistoryRequest
    max_cost_usd: float | None = None


@dataclass(frozen=True, slots=True)
class CancelHistory(Command):
    """Stop a history load (what already arrived stays cached)."""

    request_id: str


@dataclass(frozen=True, slots=True)
class StartReplay(Command):
    """Replay a DBN file into the bars at `speed` times real time (0: as fast as possible)."""

    path: str
    speed: float = 0.0


@dataclass(frozen=True, slots=True)
class SetReplaySpeed(Command):
    """Change the running replay's speed (0: as fast as possible)."""

    speed: float


@dataclass(frozen=True, slots=True)
class ResolveContract(Command):
    """Ask a destination which contract a symbol means today (answered by `ContractResolved`)."""

    destination: str
    symbol: str


@dataclass(frozen=True, slots=True)
class RenewSecret(Command):
    """Replace a generated secret (the webhook passphrase, the API token) by a new random one.

    Its owner stores it, puts it in force, then answers `SecretChanged(name)`.
    """

    name: str


@dataclass(frozen=True, slots=True)
class SendTestNotification(Command):
    """Send a test e-mail with the current notification settings (answered by `NotificationTested`)."""

    request_id: str


@dataclass(frozen=True, slots=True)
class ShowTrade(Command):
    """Move the chart to a round trip (the Backtest dock's selected trade): its symbol, entry and exit marked."""

    symbol: str
    side: str  # "long" or "short"
    entry_ns: int
    exit_ns: int
    entry_price: float
    exit_price: float
    data: str = ""  # the backtest's DBN file: its trades around the trip become the chart's history there
    contract: str = ""  # the file's name for those trades when it differs (a contract traded as its root)


@dataclass(frozen=True, slots=True)
class TestCredentials(Command):
    """Check a service's credentials or connection without trading (answered by `CredentialsTested`).

    `kind`: `databento` (a metadata call, no cost), `ib` (`params`: host, port, client_id: connect and
    disconnect), `tastytrade` (`params`: the destination's name: log in).
    """

    __test__ = False  # not a pytest test class, whatever its name

    request_id: str
    kind: str
    params: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True, slots=True)
class AuthorizeBroker(Command):
    """Start a broker's browser login (Schwab): answered by `BrokerAuthorizationStarted`, then `BrokerAuthorized`.

    `destination` names the schwab destination whose URLs to use (None: the first, or the defaults).
    """

    request_id: str
    broker: str = "schwab"
    destination: str | None = None


@dataclass(frozen=True, slots=True)
class CompleteBrokerAuthorization(Command):
    """Finish a started login with the address the browser was sent to (pasted by hand)."""

    request_id: str
    redirect_url: str

    def __repr__(self) -> str:  # the address carries a one-time code
        return f"CompleteBrokerAuthorization({self.request_id!r}, '***')"
