"""A TradingView spread ticker (`NMFC-0.72*NASDAQ:ROIC`) typed by a trader or a script: its two legs and hedge.

The same form the webhook accepts (CONTRACT.md, dialect 2): ticker1, a positive hedge,
ticker2, exchange prefixes dropped. Pure: no I/O.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from station.domain.alert import SpreadTicker

_SPREAD = re.compile(r"^(?P<t1>[^*]+?)-(?P<hedge>\d+(?:\.\d*)?|\.\d+)\*(?P<t2>[^*]+)$")


def parse_spread(text: str) -> SpreadTicker | None:
    """`NMFC-0.72*NASDAQ:ROIC` → SpreadTicker("NMFC", 0.72, "ROIC"); None for a plain ticker."""
    match = _SPREAD.match((text or "").strip())
    if match is None:
        return None
    legs = [leg.strip().rpartition(":")[2].strip() for leg in (match["t1"], match["t2"])]
    try:
        hedge = Decimal(match["hedge"])
    except InvalidOperation:
        return None
    if hedge <= 0 or not legs[0] or not legs[1]:
        return None
    return SpreadTicker(legs[0].upper(), hedge, legs[1].upper())
