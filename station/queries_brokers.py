"""What brokers may read of the rest of Station, as read-only protocols (a brokers' section of the queries).

`station/app.py` hands the implementations in through `BrokerContext`: the oms's book
answers `OrderBook`, the store's IB contract repository answers `ContractTable`.
Kept apart from `queries.py` (the UI's and the REST API's reads) so each can grow on its own.
"""

from __future__ import annotations

from typing import Protocol

from station.domain.contract_map import ContractMapping
from station.domain.orders import Order


class OrderBook(Protocol):
    """The orders the oms holds, as they stand now."""

    def order(self, client_order_id: str) -> Order | None:
        """One order by its client order id, or None if the oms has none by that id."""

    def open_orders(self, destination: str | None = None) -> list[Order]:
        """Orders not yet final, oldest first (optionally at one destination)."""

    def worked_by_station(self, client_order_id: str) -> bool:
        """The oms holds or works this order itself (a held or emulated exit): nothing to do at its destination."""


class ContractTable(Protocol):
    """The IB contract table the trader edits (symbol -> contract)."""

    def all(self) -> list[ContractMapping]:
        """Every row, by symbol."""


class NoOrders:
    """An `OrderBook` with nothing in it (a broker made outside a running Station)."""

    def order(self, client_order_id: str) -> Order | None:
        return None

    def open_orders(self, destination: str | None = None) -> list[Order]:
        return []

    def worked_by_station(self, client_order_id: str) -> bool:
        return False
