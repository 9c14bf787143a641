"""Which market time a moment of the wall clock was: the replay's clock while a replay is the market.

Alerts, fills and clicks are stamped with the wall clock; a chart of a replay is drawn in the
replay's time (the demo replays a May morning tonight). The replay notes where its clock stood
as it goes (`note`), and `at(wall)` answers with the replay's time at that wall-clock moment,
so a marker lands on the bar that was forming when the alert came. Without a replay the
market's time is the wall clock's.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime

from station.domain.timeutil import utc_now
from station.marketdata.trades import ns_to_datetime

NS = 1_000_000_000
MIN_STEP_S = 0.05  # notes closer together than this keep only the latest (unless the clock jumps back)
MAX_NOTES = 500_000  # a whole session at x10 needs ~50,000


class MarketClock:
    """Wall-clock moments mapped to the replay's time; the identity while no replay runs."""

    def __init__(self) -> None:
        self._wall: list[float] = []  # wall-clock seconds (UTC epoch) of each note, rising
        self._market: list[int] = []  # the replay's time (UTC ns) from that moment
        self._live_from: float | None = None  # a live feed took over the market from then on

    def note(self, market_ns: int, wall: datetime | None = None) -> None:
        """The replay's clock reads `market_ns` now (or at `wall`)."""
        seconds = (wall or utc_now()).timestamp()
        self._live_from = None
        if self._wall and seconds - self._wall[-1] < MIN_STEP_S and market_ns >= self._market[-1]:
            self._market[-1] = market_ns  # the same moment, a little further on: one note
            return
        self._wall.append(seconds)
        self._market.append(market_ns)
        if len(self._wall) > MAX_NOTES:
            del self._wall[: MAX_NOTES // 10], self._market[: MAX_NOTES // 10]

    def live(self, wall: datetime | None = None) -> None:
        """A live feed is the market from now on: its time is the wall clock's."""
        self._live_from = (wall or utc_now()).timestamp()

    def at(self, wall: datetime) -> datetime | None:
        """The market's time at the wall-clock moment `wall`: the replay's while one was running then,
        else the wall clock's; None for a moment before this run's replay began (its time is unknown)."""
        seconds = wall.timestamp()
        if not self._wall or (self._live_from is not None and seconds >= self._live_from):
            return wall
        i = bisect_right(self._wall, seconds) - 1
        if i < 0:
            return None
        return ns_to_datetime(self._market[i])
