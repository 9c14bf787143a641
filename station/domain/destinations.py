"""Destinations as the oms sees them: what each can do (`BrokerCapabilities`), what it reports when asked
(`BrokerReports`, the answer of a broker's `reports(since)`), and the names of NinjaTrader ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the report items are the events brokers publish live; events.py imports this module
    from station.domain.events import OrderReported, PositionReported
    from station.domain.fills import Fill

PORT_PREFIX = "port:"


def port_destination_name(port: int) -> str:
    """The destination a NinjaTrader TCP port listed in a strategy's ticker is (`port:5001`)."""
    return f"{PORT_PREFIX}{int(port)}"


@dataclass(frozen=True, slots=True)
class BrokerCapabilities:
    """What a destination can do; the router and the window read these, never the destination's name."""

    # its receiver drops an order id it has seen: an order may go out before its row commits
    drops_repeats: bool = False
    # a bracket's exits travel with the entry in one request (`submit_bracket`) and the destination works them
    native_brackets: bool = False
    # armed exits sent as working orders sharing an `oco_group` are linked there: one filling cancels the others
    native_oco: bool = False
    # a working order's quantity and prices can be changed in place
    native_replace: bool = False
    # fills come back (a NinjaTrader port's lines report none: the strategy there trades on its own)
    reports_fills: bool = True
    # a bracket's exits given as offsets (ticks, points, percent) are priced there, from its own fill
    offset_exits: bool = False
    # the order types it works natively ("trailing_stop" too where it trails a stop itself)
    order_types: tuple[str, ...] = ("market", "limit", "stop", "stop_limit")
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class BrokerReports:
    """What a destination says it holds, when asked after a (re)connect: orders it knows (open ones, and
    those that changed since `since`), its fills since `since`, and its positions (each ticker it holds
    or held and closed, flat ones with qty 0). The oms applies them in that order: fills, orders, positions."""

    destination: str
    since: datetime
    orders: tuple[OrderReported, ...] = ()
    fills: tuple[Fill, ...] = ()
    positions: tuple[PositionReported, ...] = ()

    def __str__(self) -> str:
        return (f"{self.destination}: {len(self.orders)} orders, {len(self.fills)} fills, "
                f"{len(self.positions)} positions since {self.since:%Y-%m-%d %H:%M:%S}")


class ExitMode:
    """Who works a bracket's protective exits, decided per bracket by the destination's capabilities."""

    NATIVE_BRACKET = "native_bracket"  # sent with the entry in one request; the destination works them
    NATIVE_OCO = "native_oco"  # sent when the entry fills, as working orders linked by their OCO group there
    STATION = "station"  # worked on Station's prices; a market order goes out when one is reached

    @staticmethod
    def armed(capabilities: BrokerCapabilities, exit_types: set[str]) -> str:
        """How exits not sent with their entry are worked once it fills."""
        if capabilities.reports_fills and capabilities.native_oco and exit_types <= set(capabilities.order_types):
            return ExitMode.NATIVE_OCO
        return ExitMode.STATION
