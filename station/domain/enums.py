"""Enumerations shared by every layer; values are the strings of the outside contract."""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """A str-valued enum whose str() is its value."""

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, text: str):
        """Case-insensitive lookup by value; ValueError names the allowed values."""
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise ValueError(f"{text!r} is not one of {allowed}") from None


class Side(StrEnum):
    """Direction of an order or fill."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    """How an order is priced."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    # an exit only: a stop that follows the best price since it started working (alerts' `trailing_stop`)
    TRAILING_STOP = "trailing_stop"


class TimeInForce(StrEnum):
    """How long an order stays working."""

    DAY = "day"
    GTC = "gtc"


class OrderStatus(StrEnum):
    """Lifecycle state of an order (the contract's `status` of `/api/orders`)."""

    HELD = "held"  # a protective exit waiting for its entry to fill
    NEW = "new"
    SUBMITTED = "submitted"
    WORKING = "working"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED})


class OrderRole(StrEnum):
    """What an order is for: opening (`entry`), closing (`exit`), or one of a bracket's protective exits."""

    ENTRY = "entry"
    EXIT = "exit"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"

    @property
    def protective(self) -> bool:
        """A bracket's exit: held until its entry fills, then one of an OCO group."""
        return self in _PROTECTIVE


_PROTECTIVE = frozenset({OrderRole.STOP_LOSS, OrderRole.TAKE_PROFIT, OrderRole.TRAILING_STOP})


class AlertAction(StrEnum):
    """An alert's action beyond buy/sell (those are `Side`): close, reverse, or cancel the strategy's orders."""

    EXIT = "exit"  # also sent as `close`
    REVERSE = "reverse"
    CANCEL = "cancel"

    @classmethod
    def parse(cls, text: str):
        """Case-insensitive; `close` is `exit`."""
        word = str(text).strip().lower()
        return super().parse("exit" if word == "close" else word)


class AlertStatus(StrEnum):
    """Routing state of a journaled alert (the contract's `status` of `/api/alerts`)."""

    QUEUED = "queued"
    ROUTED = "routed"
    UNROUTED = "unrouted"
    REJECTED = "rejected"


class AssetClass(StrEnum):
    """Kind of tradable instrument."""

    STOCK = "stock"
    FUTURE = "future"
    OPTION = "option"
    INDEX = "index"
    FOREX = "forex"
    CRYPTO = "crypto"


class OptionRight(StrEnum):
    """Call or put."""

    CALL = "call"
    PUT = "put"


class ConnectionState(StrEnum):
    """State of a link to a peer (broker, feed, NinjaTrader port); drives the status lights."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    REPLAYING = "replaying"
    STALE = "stale"
    ERROR = "error"
    # no longer configured: its light and rows go (the last word about a link)
    REMOVED = "removed"
