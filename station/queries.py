"""Read interfaces the window (and the REST API) read Station through, and the few non-order edits it makes.

Each is a `Protocol` its implementation satisfies by shape (the store's repositories, the
oms's book, the engine, the composition root); the reader imports this module, never
theirs. Reads are synchronous and quick (SQLite on a reader connection, or memory); edits
are coroutines that resolve once committed and return the new config revision.

Orders and trading actions are not here: they are commands on the bus (`domain/commands.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping, Protocol

from station.domain.alert import Alert
from station.domain.config import RoutingConfig
from station.domain.contract_map import ContractMapping
from station.domain.events import AccountReported, ConnectionChanged
from station.domain.fills import Fill
from station.domain.marketdata import MarketDataRow
from station.domain.orders import Order
from station.domain.pairs import PairFill
from station.domain.record_filter import RecordFilter
from station.domain.pnl import MarkedPosition
from station.domain.script_feed import ScriptTrade, ScriptUpload
from station.domain.refusals import Refusal


class AlertQueries(Protocol):
    """The alert journal as recorded (store: `OrderRepository`)."""

    def latest_alerts(self, limit: int) -> list[tuple[Alert, str | None]]:
        """The newest `limit` alerts, oldest first, each with its status reason."""
        ...


class OrderQueries(Protocol):
    """Orders and fills as recorded (store: `OrderRepository`)."""

    def latest_orders(self, limit: int) -> list[Order]:
        """The newest `limit` orders, oldest first."""
        ...

    def latest_fills(self, limit: int) -> list[Fill]:
        """The newest `limit` fills, oldest first."""
        ...


class PriceQueries(Protocol):
    """The newest price of each symbol the oms has seen (oms: `Marks`): feed trades, fills, alerts' prices."""

    def price(self, symbol: str) -> Decimal | None: ...


class BookQueries(Protocol):
    """The live book (oms: `Book`): positions at their marks, PnL, working orders, the kill switch."""

    kill_switch_reason: str | None
    kill_switch_since: datetime | None
    marks: PriceQueries

    def open_orders(self, destination: str | None = None) -> list[Order]:
        """Orders not yet final, oldest first."""
        ...

    def marked_positions(self, *, include_flat: bool = True) -> list[MarkedPosition]: ...

    def pnl_by_strategy(self) -> list[dict]: ...


class ConfigQueries(Protocol):
    """The routing configuration and settings (store: `ConfigRepository`)."""

    def revision(self) -> int: ...

    def load(self) -> RoutingConfig:
        """A snapshot of every destination and strategy."""
        ...

    def settings(self, section: str) -> dict[str, Any]:
        """One settings section, defaults filled in."""
        ...

    def strategy_document(self, name: str) -> dict[str, Any] | None:
        """One strategy as its config-file object, or None."""
        ...

    def export_document(self) -> dict[str, Any]:
        """The whole configuration as Station's JSON document."""
        ...


class ConfigEditor(Protocol):
    """Config changes (store: `ConfigRepository`): checked all-or-nothing, ConfigError naming bad keys.

    Each resolves to the new config revision once committed.
    """

    async def import_document_async(self, document: Any) -> int: ...

    async def update_settings(self, section: str, values: dict[str, Any]) -> int: ...

    async def save_strategy(self, name: str, spec: Any, *, create: bool = False) -> int: ...

    async def set_strategy_enabled(self, name: str, enabled: bool) -> int: ...

    async def rename_strategy(self, old: str, new: str) -> int: ...

    async def delete_strategy(self, name: str) -> int: ...

    async def save_destination(self, name: str, spec: Any) -> int: ...

    async def delete_destination(self, name: str) -> int: ...


class ConnectionQueries(Protocol):
    """Each link's last reported state (the composition root keeps them)."""

    def latest_connections(self) -> list[ConnectionChanged]: ...


class ScriptFeedQueries(Protocol):
    """What external scripts uploaded (store: `ScriptFeedRepository`), newest first."""

    def recent_trades(self, limit: int = 1000) -> list[ScriptTrade]: ...

    def recent_bars(self, limit: int = 1000) -> list[MarketDataRow]: ...

    def recent_uploads(self, limit: int = 100) -> list[ScriptUpload]:
        """The newest `limit` uploads, newest first, each with its rows."""
        ...


class ScriptFeedRecorder(Protocol):
    """Where the script feed stores an upload (store: `ScriptFeedRepository`)."""

    async def record(self, source: str, trades: list[ScriptTrade], bars: list[MarketDataRow]) -> ScriptUpload:
        """Both CSVs of one upload in one transaction; the upload with its id once committed."""
        ...


class RecordQueries(Protocol):
    """Alerts, orders, fills and pairs as stored, newest first, for the REST API (store: `RecordReader`).

    Each record is the row as a mapping of column names (the API chooses what it shows).
    """

    def alert_records(self, limit: int, where: RecordFilter | None = None) -> list[Mapping[str, Any]]: ...

    def order_records(self, limit: int, where: RecordFilter | None = None) -> list[Mapping[str, Any]]: ...

    def fill_records(self, limit: int) -> list[Mapping[str, Any]]: ...

    def orders_of_cause(self, cause: str) -> list[Mapping[str, Any]]:
        """The orders one cause made (a manual click: `m<click_id>`), in the order made."""
        ...

    def order_record(self, client_order_id: str) -> Mapping[str, Any] | None:
        """One order as stored, by its client order id; None if there is none."""
        ...

    def pair_records(self, limit: int) -> list[tuple[Mapping[str, Any], PairFill]]:
        """Pair groups, each with its legs' figures."""
        ...


class StrategySwitch(Protocol):
    """Trading of one strategy on or off (store: `StrategySwitchRepository`): a plain one takes alerts, one with
    an `engine` also runs; KeyError for an unknown name. Resolves to the new config revision once committed."""

    async def set_running(self, name: str, running: bool) -> int: ...


class IbContractQueries(Protocol):
    """The IB contract table (store: `IbContractRepository`)."""

    def all(self) -> list[ContractMapping]:
        """Every row, by symbol."""
        ...


class IbContractEditor(Protocol):
    """Edits of the IB contract table (store: `IbContractRepository`); each bumps the config revision."""

    async def save(self, mapping: ContractMapping, *, replacing: str | None = None) -> int: ...

    async def delete(self, tv_symbol: str) -> bool: ...


class RefusalQueries(Protocol):
    """Refused webhook requests (store: `RefusalRepository`); the Alerts dock and `GET /api/refusals` read them."""

    def latest_refusals(self, limit: int = 100, since: datetime | None = None) -> list[Refusal]:
        """The newest `limit` refusals (received since `since`, if given), newest first."""
        ...

    async def settled(self) -> None:
        """Wait until every refusal recorded so far can be read (they are written off the webhook's path)."""
        ...


class EngineQueries(Protocol):
    """The engine's strategies (engine: `StrategyRunner`)."""

    def snapshot(self) -> list[dict[str, Any]]:
        """Every strategy: name, kind, tickers, timeframe, trade_enabled, state, reason, instances."""
        ...


class AccountQueries(Protocol):
    """Each broker account's last reported money (the composition root keeps them, from `AccountReported`)."""

    def latest_accounts(self) -> list[AccountReported]: ...


class NoAccounts:
    """No broker reports an account."""

    def latest_accounts(self) -> list[AccountReported]:
        return []


class MarketQueries(Protocol):
    """The market's clock (marketdata: `MarketData`)."""

    def market_time(self, wall: datetime) -> datetime | None:
        """The market's time at a wall-clock moment: a replay's while it was the market, else the same moment;
        None when unknown (before this run's replay began)."""
        ...


class WallClockMarket:
    """The market's time is the wall clock's (no market data component)."""

    def market_time(self, wall: datetime) -> datetime | None:
        return wall


@dataclass(frozen=True)
class Queries:
    """Every read interface, as one value to hand on."""

    alerts: AlertQueries
    orders: OrderQueries
    book: BookQueries
    config: ConfigQueries
    connections: ConnectionQueries
    script_feed: ScriptFeedQueries
    ib_contracts: IbContractQueries
    engine: EngineQueries
    refusals: RefusalQueries
    market: MarketQueries = WallClockMarket()
    accounts: AccountQueries = NoAccounts()
