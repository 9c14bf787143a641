"""The chart's time axis: bars by index (no gaps for closed hours), labelled in exchange time (US/Eastern)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

import numpy as np
import pyqtgraph as pg

from station.domain.timeutil import EASTERN
from station.ui.chart.series import ChartSeries

NS = 1_000_000_000
MIN_LABEL_PX = 90
DAY = 86_400
# Label spacings in seconds; days and up are counted in local dates, weeks, months and years.
SPACINGS = (1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 7200, 14400, DAY, 7 * DAY, 31 * DAY, 92 * DAY, 366 * DAY)


def local_offsets_ns(ts: np.ndarray, zone=EASTERN) -> np.ndarray:
    """The zone's UTC offset (ns) at each time, found piecewise (offsets change only a few times a year)."""
    out = np.empty(len(ts), np.int64)

    def offset(value: int) -> int:
        moment = datetime.fromtimestamp(int(value) // NS, timezone.utc).astimezone(zone)
        return int(moment.utcoffset().total_seconds()) * NS

    def fill(lo: int, hi: int) -> None:
        first, last = offset(ts[lo]), offset(ts[hi - 1])
        if first == last or hi - lo <= 2:
            out[lo:hi] = first if first == last else [offset(v) for v in ts[lo:hi]]
            return
        mid = (lo + hi) // 2
        fill(lo, mid)
        fill(mid, hi)

    if len(ts):
        fill(0, len(ts))
    return out


def to_eastern(start_ns: int) -> datetime:
    return (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=int(start_ns) // 1000)).astimezone(EASTERN)


class ExchangeTimeAxis(pg.AxisItem):
    """Bottom axis: ticks where the exchange clock crosses a round time, labelled in ET."""

    def __init__(self, series: Callable[[], ChartSeries]) -> None:
        super().__init__("bottom")
        self._series = series
        self.label_shift_ns = 0  # daily bars are labelled by their trading date (start + 12 h)
        self._spacing = 60
        self._memo: tuple = ((), [])
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802
        series = self._series()
        key = (minVal, maxVal, size, id(series), series.revision, self.label_shift_ns)
        if self._memo[0] != key:  # asked by the axis and the grids of both plots for the same frame
            self._memo = (key, self._ticks(series, minVal, maxVal, size))
        return self._memo[1]

    def _ticks(self, series: ChartSeries, minVal, maxVal, size):  # noqa: N803
        n = len(series)
        lo, hi = max(0, int(np.ceil(minVal))), min(n, int(np.floor(maxVal)) + 1)
        if hi - lo < 2 or size <= 0:
            return []
        starts = series.column("start")
        stride = max(1, (hi - lo) // 4000)
        idx = np.arange(lo, hi, stride)
        ts = starts[idx] + self.label_shift_ns
        bar_s = max(1.0, float(np.median(np.diff(ts[: min(len(ts), 200)]))) / NS / stride)
        bars_per_label = MIN_LABEL_PX * (maxVal - minVal) / size
        wanted = bar_s * bars_per_label
        self._spacing = next((s for s in SPACINGS if s >= wanted), SPACINGS[-1])
        local = ts + local_offsets_ns(ts)
        bucket = _buckets(local, self._spacing)
        ticks = idx[1:][np.diff(bucket) != 0]
        # Tick bars are not evenly spaced in time (hundreds a minute at the open, a few an hour at night):
        # round times cluster, so labels are kept only a label's width apart.
        return [(float(self._spacing), spaced(ticks, MIN_LABEL_PX * (maxVal - minVal) / size))]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        series = self._series()
        starts = series.column("start")
        labels = []
        for value in values:
            i = int(round(value))
            if not 0 <= i < len(starts):
                labels.append("")
                continue
            moment = to_eastern(starts[i] + self.label_shift_ns)
            labels.append(self._label(moment, i, starts))
        return labels

    def _label(self, moment: datetime, i: int, starts: np.ndarray) -> str:
        spacing = self._spacing
        if spacing >= 366 * DAY:
            return f"{moment:%Y}"
        if spacing >= 31 * DAY:
            return f"{moment:%b %Y}" if moment.month == 1 else f"{moment:%b}"
        if spacing >= DAY:
            return f"{moment:%b} {moment.day}"
        previous = to_eastern(starts[i - 1] + self.label_shift_ns) if i > 0 else None
        if previous is None or previous.date() != moment.date():
            return f"{moment:%a} {moment.day}"
        return f"{moment:%H:%M:%S}" if spacing < 60 else f"{moment:%H:%M}"


def spaced(ticks: np.ndarray, min_bars: float) -> list[float]:
    """Ticks (bar indexes, rising) at least `min_bars` apart, the first kept."""
    kept: list[float] = []
    for tick in ticks.tolist():
        if not kept or tick - kept[-1] >= min_bars:
            kept.append(float(tick))
    return kept


def _buckets(local_ns: np.ndarray, spacing: int) -> np.ndarray:
    seconds = local_ns // NS
    if spacing < DAY:
        return seconds // spacing
    days = seconds // DAY
    if spacing == DAY:
        return days
    if spacing == 7 * DAY:
        return (days + 3) // 7  # weeks from Monday (1970-01-01 was a Thursday)
    months = local_ns.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    if spacing == 31 * DAY:
        return months
    if spacing == 92 * DAY:
        return months // 3
    return months // 12
