"""One IB destination's settings, read from its config entry (`{"type": "ib", "host", "port", …}`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from station.backoff import Backoff

# Reconnect delays: quick at first (a network blip), then every few seconds (TWS restarting), so the
# link is back within a few seconds of TWS answering again — well inside the contract's 15 s.
RECONNECT_INITIAL_S = 0.25
RECONNECT_MAX_S = 4.0
CONNECT_TIMEOUT_S = 6.0
HEARTBEAT_S = 10.0
HEARTBEAT_TIMEOUT_S = 5.0
COMMISSION_WAIT_S = 0.5
STATUS_WAIT_S = 2.0


@dataclass(frozen=True)
class IBSettings:
    """Where TWS/IB Gateway listens, who we are to it, and what market data to stream from it."""

    host: str = "127.0.0.1"
    port: int = 7497
    client_id: int = 1
    account: str | None = None
    market_data: tuple[str, ...] = ()
    ticks: str = "trades"
    realtime_bars: bool = False
    bar_source: str = "trades"
    reconnect_initial_s: float = RECONNECT_INITIAL_S
    reconnect_max_s: float = RECONNECT_MAX_S
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    heartbeat_s: float = HEARTBEAT_S
    heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "IBSettings":
        """Settings from a destination's checked parameters (unknown keys are ignored)."""
        return cls(
            host=str(params.get("host", "127.0.0.1")),
            port=int(params.get("port", 7497)),
            client_id=int(params.get("client_id", 1)),
            account=params.get("account") or None,
            market_data=tuple(params.get("market_data") or ()),
            ticks=str(params.get("ticks") or "trades"),
            realtime_bars=bool(params.get("realtime_bars") or False),
            bar_source=str(params.get("bar_source") or "trades"),
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def backoff(self) -> Backoff:
        """The reconnect delays of one link (the shared back-off, with jitter)."""
        return Backoff(self.reconnect_initial_s, self.reconnect_max_s)
