"""Numbers as senders write them: ASCII digits, an optional point and a small exponent, nothing else.

`Decimal` and `float` read more than a sender means: "1_000", Arabic-Indic or full-width
digits, "1e999999999" (whose arithmetic raises decimal.Overflow later), "infinity". One
strict reading for every text field that carries a number (alerts, CSV uploads).
"""

from __future__ import annotations

import re
from decimal import Decimal

NUMBER = re.compile(r"^[+-]?(?:\d{1,30}(?:\.\d{0,30})?|\.\d{1,30})(?:[eE][+-]?\d{1,3})?$", re.ASCII)


def decimal_or_none(text: str) -> Decimal | None:
    """`text` (already stripped) as a finite Decimal, or None if it is not a plain number."""
    return Decimal(text) if NUMBER.match(text) else None
