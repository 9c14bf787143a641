"""Bar timeframes: time bars (`1s` … `1d`) and tick bars (`512t`), parsed from their short names."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdt])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}

# What the pickers offer; any other valid name (e.g. `3m`, `2000t`) works as well.
STANDARD = ("1s", "1m", "2m", "5m", "15m", "30m", "1h", "4h", "1d", "512t", "1160t")

MAX_TICKS = 1_000_000


class TimeframeError(ValueError):
    """A timeframe name that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Timeframe:
    """A bar size: `seconds` for time bars (0 for a whole session), or `ticks` for tick bars."""

    name: str
    seconds: int = 0
    ticks: int = 0
    session: bool = False  # `1d`: one bar per exchange session

    @property
    def is_tick(self) -> bool:
        return self.ticks > 0

    @property
    def step_ns(self) -> int:
        """Bar length in nanoseconds (time bars below a session)."""
        return self.seconds * 1_000_000_000

    def __str__(self) -> str:
        return self.name


def parse_timeframe(text: str) -> Timeframe:
    """`1m` → one-minute bars, `512t` → 512-trade bars, `1d` → session bars; TimeframeError otherwise."""
    match = _PATTERN.match(text) if isinstance(text, str) else None
    if not match:
        raise TimeframeError(f"{text!r} is not a timeframe: use e.g. 1s, 5m, 1h, 1d or 512t")
    count, unit = int(match.group(1)), match.group(2).lower()
    name = f"{count}{unit}"
    if count <= 0:
        raise TimeframeError(f"timeframe {name} must be at least 1")
    if unit == "t":
        if count > MAX_TICKS:
            raise TimeframeError(f"tick bars of {count} trades are more than the {MAX_TICKS} allowed")
        return Timeframe(name, ticks=count)
    if unit == "d":
        if count != 1:
            raise TimeframeError(f"{name}: only 1d (one bar per session) is supported")
        return Timeframe(name, session=True)
    seconds = count * _UNIT_SECONDS[unit]
    if seconds > 24 * 3600:
        raise TimeframeError(f"{name} is longer than a day; use 1d")
    return Timeframe(name, seconds=seconds)
