"""A webhook request Station refused (any 4xx): what the trader sees in the Alerts dock and `GET /api/refusals`."""

from __future__ import annotations

import re
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


_VARIABLE = re.compile(r"\d+(\.\d+)?")


def reason_kind(status: int, reason: str) -> str:
    """The stable part of a refusal's reason (`rate limit exceeded; retry after 3 s` -> `429 rate limit exceeded`):
    refusals of one kind are logged once a minute per address, and share a row in the Alerts dock."""
    head = re.split(r"[:;]", reason, maxsplit=1)[0]
    return f"{status} {_VARIABLE.sub('N', head).strip()}"
