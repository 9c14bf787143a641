"""Bar boundaries of one timeframe in one trading session calendar, as sorted UTC nanosecond arrays.

A time bar starts wherever the exchange's wall clock reads session open + k × bar
length, and the last bar of a session is cut at the close. On a daylight-saving
change inside a session the wall clock decides: a 4h bar can last 3 or 5 hours,
and after a fall-back the repeated hour gets bars of its own. Boundaries are
computed for a window of sessions at a time, so locating a batch of trades is
one `searchsorted`.
"""

from __future__ import annotations

import numpy as np

from station.marketdata.bars.sessions import DAY_NS, NS, TradingSession, utc_offset_s
from station.marketdata.bars.timeframes import Timeframe

_EMPTY = np.empty(0, dtype=np.int64)


class SessionGrid:
    """Where bars of `timeframe` start and end in `session` (tick and 1d bars: one slot per session)."""

    def __init__(self, session: TradingSession, timeframe: Timeframe) -> None:
        self.session = session
        self.timeframe = timeframe
        self.bounds = _EMPTY  # start of every slot, ascending
        self.ends = _EMPTY  # end of every slot (next start, or the session close)
        self._lo = self._hi = 0
        self._span = (0, 0)  # the slot `span` found last

    def locate(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each trade time: index of its slot in `bounds`, and whether it falls inside a session."""
        if not len(ts):
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=bool)
        self.cover(int(ts.min()), int(ts.max()))
        idx = np.searchsorted(self.bounds, ts, side="right") - 1
        valid = idx >= 0
        np.maximum(idx, 0, out=idx)
        valid &= ts < self.ends[idx]
        return idx, valid

    def slot(self, ts_ns: int) -> tuple[int, int] | None:
        """(start, end) of the slot holding `ts_ns`, or None outside every session."""
        idx, valid = self.locate(np.array([ts_ns], dtype=np.int64))
        return (int(self.bounds[idx[0]]), int(self.ends[idx[0]])) if valid[0] else None

    def span(self, lo_ns: int, hi_ns: int) -> tuple[int, int] | None:
        """(start, end) of the one slot holding every time in [lo_ns, hi_ns], or None if that is not one slot
        inside a session. A batch of trades inside one bar (the usual live batch) needs no per-trade `locate`."""
        start, end = self._span
        if start <= lo_ns and hi_ns < end:
            return self._span
        self.cover(lo_ns, hi_ns)
        i = int(self.bounds.searchsorted(lo_ns, "right")) - 1
        if i < 0 or hi_ns >= self.ends[i]:
            return None
        self._span = (int(self.bounds[i]), int(self.ends[i]))
        return self._span

    def cover(self, lo_ns: int, hi_ns: int) -> None:
        """Make sure every time in [lo_ns, hi_ns] is classified (recomputes a window around it)."""
        if self._lo <= lo_ns and hi_ns <= self._hi:
            return
        lo, hi = lo_ns - DAY_NS, hi_ns + 3 * DAY_NS
        starts, ends = [], []
        for opened, closed in self.session.sessions(lo, hi):
            slots = self._slots(opened, closed)
            starts.append(slots)
            ends.append(np.append(slots[1:], closed))
        self.bounds = np.concatenate(starts) if starts else _EMPTY
        self.ends = np.concatenate(ends) if ends else _EMPTY
        self._lo, self._hi = lo, hi

    def _slots(self, opened: int, closed: int) -> np.ndarray:
        tf = self.timeframe
        if tf.is_tick or tf.session:
            return np.array([opened], dtype=np.int64)
        step = tf.step_ns
        zone = self.session.zone
        before, after = utc_offset_s(opened, zone), utc_offset_s(closed - 1, zone)
        if before == after:  # the usual case: wall clock and elapsed time agree
            return np.arange(opened, closed, step, dtype=np.int64)
        change = _transition(opened, closed, zone, before)
        open_local = opened + before * NS
        pieces = []
        for start, end, offset in ((opened, change, before), (change, closed, after)):
            local_start, local_end = start + offset * NS, end + offset * NS
            first = -(-(local_start - open_local) // step)
            last = -(-(local_end - open_local) // step)
            pieces.append(open_local + np.arange(first, last, dtype=np.int64) * step - offset * NS)
        return np.concatenate(pieces)


def _transition(lo: int, hi: int, zone, before: int) -> int:
    """The first whole second in (lo, hi) whose UTC offset differs from `before` (binary search)."""
    lo_s, hi_s = lo // NS, -(-hi // NS)
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if utc_offset_s(mid * NS, zone) == before:
            lo_s = mid
        else:
            hi_s = mid
    return hi_s * NS
