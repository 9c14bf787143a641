"""What a listing of alerts or orders asks for (`GET /api/alerts|orders?status=&strategy=&ticker=&…`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RecordFilter:
    """Each field given must match; None matches everything. `since` is an aware time."""

    status: str | None = None
    strategy: str | None = None
    ticker: str | None = None
    destination: str | None = None
    since: datetime | None = None
