"""A webhook request Station refused (any 4xx): what the trader sees in the Alerts dock and `GET /api/refusals`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

KEPT = 10_000  # newest refusals kept (CONTRACT.md "TradingView webhook")
BODY_BYTES = 512  # of each refused body, with the passphrase's value removed


@dataclass(frozen=True, slots=True)
class Refusal:
    """One refused request: when, from where, the answer's status and reason, the path's strategy, the body's start."""

    at: datetime
    source: str
    status: int
    reason: str
    strategy: str | None = None
    body: str = ""
