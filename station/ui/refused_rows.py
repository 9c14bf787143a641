"""Refused webhook requests as rows of the Alerts dock: status `refused`, the reason, the sender's address.

Someone setting up TradingView sees at once why nothing arrived (wrong passphrase,
unknown strategy in the URL, a body that is not JSON). Repeats of one kind from one
address within a minute share one row with a count, so a flood of refusals cannot push
the real alerts out of the table.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict

from station.domain.refusals import Refusal, reason_kind

_TICKER = re.compile(r'"(?:ticker|symbol)"\s*:\s*"([^"\\]{1,40})"')
REMEMBERED = 2000  # row keys whose counts are kept


def ticker_in(body: str) -> str:
    """The ticker (or symbol) a refused body names, if it can be read; else ""."""
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if isinstance(value, dict):
        ticker = value.get("ticker", value.get("symbol"))
        return str(ticker)[:40] if isinstance(ticker, (str, int, float)) and not isinstance(ticker, bool) else ""
    match = _TICKER.search(body)
    return match.group(1) if match else ""


class RefusedRows:
    """Turns refusals into dock rows, one per address, reason and minute, counting the repeats."""

    def __init__(self, make_row) -> None:
        self._make_row = make_row  # (refusal, key, count) -> the dock's row
        self._counts: OrderedDict[tuple, int] = OrderedDict()

    def rows(self, refusals: list[Refusal]) -> list:
        """Rows for `refusals` (oldest first); a repeat updates its row's count."""
        made = {}
        for refusal in refusals:
            minute = refusal.at.replace(second=0, microsecond=0)
            key = ("refused", refusal.source, reason_kind(refusal.status, refusal.reason), refusal.strategy, minute)
            count = self._counts.pop(key, 0) + 1
            self._counts[key] = count
            made[key] = self._make_row(refusal, key, count)
        while len(self._counts) > REMEMBERED:
            self._counts.popitem(last=False)
        return list(made.values())
