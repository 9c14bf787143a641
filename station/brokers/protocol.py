"""The protocol every destination implements, and what it reports back.

The oms owns the book. A broker only: keeps its link up (reconnecting by itself with
the shared back-off), sends, cancels and changes what it is given, says what it can do
(`capabilities`), answers `reports(since)` after each (re)connect, and reports what the
destination says as bus events: `ConnectionChanged` (kind "broker"), `OrderReported`,
`FillReported`, `PositionReported`. The dispatcher (`dispatcher.py`) drives it: it sends
nothing new to a destination that (re)connected until the oms has reconciled its book
with that destination's reports.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from station.domain.destinations import BrokerCapabilities, BrokerReports
from station.domain.enums import ConnectionState
from station.domain.orders import OrderRequest

__all__ = ["BracketRefused", "Broker", "BrokerCapabilities", "BrokerError", "BrokerReports"]


class BrokerError(RuntimeError):
    """An order could not be handed to the destination, cancelled or changed (the reason says why)."""


class BracketRefused(BrokerError):
    """`submit_bracket` placed nothing: the destination would not take this bracket in its native form (its shape,
    or the destination's own refusal). The entry can still go alone, its exits worked by Station."""


@runtime_checkable
class Broker(Protocol):
    """One destination (a named entry of the config's `destinations`, or a NinjaTrader port)."""

    name: str
    state: ConnectionState
    capabilities: BrokerCapabilities

    async def start(self) -> None:
        """Begin connecting (in the background; never blocks start-up) and keep connected."""

    async def stop(self) -> None:
        """Disconnect and stop reconnecting."""

    async def submit(self, request: OrderRequest) -> None:
        """Hand one order over; raise BrokerError if it cannot be sent. Results arrive as reports."""

    async def cancel(self, client_order_id: str) -> None:
        """Ask to cancel a working order; the result arrives as an OrderReported."""

    # A destination with `capabilities.native_brackets` also has
    #     async def submit_bracket(self, entry: OrderRequest, exits: tuple[OrderRequest, ...]) -> None
    # sending the entry with its protective exits (each `parent_id` = the entry's id, one `oco_group`) in one
    # request: IB's parent and children with one OCA group, Tastytrade's OTOCO, Schwab's TRIGGER with OCO,
    # NinjaTrader ATI's shared OCO ID. It reports the exits like any order; they stay `held` until the entry
    # fills. Without it the oms's exit manager keeps the exits (see `station/oms/exits/`); so does a bracket the
    # destination refuses in its native form (`BracketRefused`: nothing placed, the entry then goes alone).

    async def replace(self, request: OrderRequest) -> None:
        """Change a working order to `request` (same client order id; new quantity or prices): in place where
        the destination can (`capabilities.native_replace`), else by cancelling and sending again; BrokerError
        if it cannot."""

    async def reports(self, since: datetime) -> BrokerReports:
        """What the destination holds now: orders it knows (open, or changed since `since`), fills since
        `since`, positions; asked after every (re)connect, before anything new is sent."""
