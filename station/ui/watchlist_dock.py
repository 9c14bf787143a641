"""The pairs Watchlist: every pair's spread, mean, σ and distance in σ, live and sortable."""

from __future__ import annotations

import math
from typing import Any, Callable

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from station.domain.events import PairUpdated
from station.domain.timeutil import to_eastern
from station.ui import theme
from station.ui.bridge import UiBridge
from station.ui.table_model import ALIGN_RIGHT, Column, RecordTableModel, make_table


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:,.{digits}f}"


def _distance_color(event: PairUpdated) -> str | None:
    if event.distance is None:
        return None
    if abs(event.distance) >= 2:
        return theme.RED
    return theme.AMBER if abs(event.distance) >= 1 else None


COLUMNS = [
    Column("Strategy", lambda e: e.strategy, width=100),
    Column("Pair", lambda e: e.pair, width=130, tooltip=lambda e: e.pair),
    Column("Spread", lambda e: _num(e.spread), ALIGN_RIGHT, width=80),
    Column("SMA", lambda e: _num(e.mean), ALIGN_RIGHT, width=80),
    Column("σ", lambda e: _num(e.std), ALIGN_RIGHT, width=64),
    Column("Distance (σ)", lambda e: _num(e.distance, 2), ALIGN_RIGHT, color=_distance_color, width=104),
    Column("Position", lambda e: e.position, width=64),
    Column("Bar (ET)", lambda e: f"{to_eastern(e.at):%m-%d %H:%M}", width=84, color=lambda e: theme.MUTED),
]
# what each column sorts by: numbers as numbers, a missing value last
SORT_KEYS: list[Callable[[PairUpdated], Any]] = [
    lambda e: e.strategy, lambda e: e.pair, lambda e: e.spread, lambda e: _missing_last(e.mean),
    lambda e: _missing_last(e.std), lambda e: _missing_last(e.distance), lambda e: e.position, lambda e: e.at,
]


def _missing_last(value: float | None) -> float:
    return math.inf if value is None else value


class _NumericSort(QSortFilterProxyModel):
    def lessThan(self, left, right) -> bool:  # noqa: N802
        key = SORT_KEYS[left.column()]
        a, b = (self.sourceModel().data(i, Qt.UserRole) for i in (left, right))
        return key(a) < key(b)


class WatchlistDock(QWidget):
    """One row per pair, updated in place after each bar."""

    def __init__(self, bridge: UiBridge) -> None:
        super().__init__()
        self.model = RecordTableModel(COLUMNS, key=lambda e: (e.strategy, e.pair), newest_first=False, cap=1000)
        self.proxy = _NumericSort(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setDynamicSortFilter(True)
        self.table = make_table(self.proxy, COLUMNS, sortable=True,
                                empty="No pairs yet: a running pairs strategy (Engine dock) lists each pair's "
                                      "spread and distance here after every bar.")
        self.table.sortByColumn(5, Qt.DescendingOrder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table)
        bridge.on(PairUpdated, self.model.upsert)
