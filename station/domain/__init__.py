"""Typed, frozen domain values: no I/O, no Qt, no asyncio; stdlib only."""

from station.domain.alert import Alert, SpreadTicker
from station.domain.enums import (
    AlertStatus,
    AssetClass,
    ConnectionState,
    OptionRight,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from station.domain.fills import Fill
from station.domain.instrument import Instrument
from station.domain.marketdata import Bar, Tick
from station.domain.orders import TRANSITIONS, InvalidTransition, Order, OrderRequest
from station.domain.positions import Position

__all__ = [
    "Alert", "AlertStatus", "AssetClass", "Bar", "ConnectionState", "Fill", "Instrument",
    "InvalidTransition", "OptionRight", "Order", "OrderRequest", "OrderStatus", "OrderType",
    "Position", "Side", "SpreadTicker", "TRANSITIONS", "Tick", "TimeInForce",
]
