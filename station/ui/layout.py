"""The default dock layout: a large chart, the trading controls on the right, the wide tables below.

    +-----------------------------------------------+------------------+
    |                                               | Manual Trading   |
    |  Chart                                        +------------------+
    |                                               | Strategies       |
    +-------------------------------+---------------+------------------+
    | [Alerts | Log | Engine | …]    | [Orders | Positions & PnL | Fills | Accounts] |
    +-------------------------------+----------------------------------+

The wide tables get the full width of the bottom row, side by side, so an alert and the
orders it became are seen together; the total PnL is always in the status bar.

Docks are placed by object name; a dock this plan does not know (a new panel, another
chart) joins the group of its panel's area, so every capability still has a home.
The same function builds the first start and "Reset layout", so both are exactly alike.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QSizePolicy, QStyle, QWidget

if TYPE_CHECKING:
    from station.ui.panels import DockHost


@dataclass(frozen=True)
class TabGroup:
    """Docks tabbed together, in tab order; `raised` is the tab shown on top."""

    docks: tuple[str, ...]
    raised: str


CHART = TabGroup(("ChartDock",), "ChartDock")
TICKET = TabGroup(("ManualTradingDock",), "ManualTradingDock")
SETUP = TabGroup(("StrategiesDock",), "StrategiesDock")
FEEDS = TabGroup(("AlertsDock", "LogDock", "EngineDock", "WatchlistDock", "ScriptFeedDock", "NinjaTraderDock",
                  "IbDock", "BacktestDock"), "AlertsDock")
TRADES = TabGroup(("OrdersDock", "PositionsDock", "FillsDock", "AccountsDock"), "OrdersDock")
GROUPS = (CHART, TICKET, SETUP, FEEDS, TRADES)

# where a dock the plan does not name goes, by the area its panel asks for
FALLBACK = {Qt.LeftDockWidgetArea: CHART, Qt.RightDockWidgetArea: SETUP, Qt.TopDockWidgetArea: FEEDS,
            Qt.BottomDockWidgetArea: FEEDS}

RIGHT_SHARE, RIGHT_MIN, RIGHT_MAX = 0.24, 330, 420  # the right column's width: share of the window, clamped
BOTTOM_SHARE, BOTTOM_MIN, BOTTOM_MAX = 0.30, 210, 330  # the bottom tables' height
FEEDS_SHARE = 0.47  # Alerts' group's share of the bottom row (Orders gets the rest: at 1366 px all its columns)


def chart_room() -> QWidget:
    """The main window's central widget: no width, all the height between the top and bottom areas.

    With no central widget, Qt splits any change of the window's height among the dock areas, so
    the bottom tables would not keep the height the layout gives them; this absorbs it (the chart
    beside it grows instead).
    """
    room = QWidget()
    room.setObjectName("ChartRoom")
    room.setMaximumWidth(0)
    room.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Expanding)
    return room


@dataclass(frozen=True)
class Room:
    """The default sizes of the areas for a window's size."""

    sep: int
    width: int
    height: int  # between the menu bar and the status bar
    right: int
    bottom: int

    @classmethod
    def of(cls, window: "DockHost") -> "Room":
        sep = window.style().pixelMetric(QStyle.PM_DockWidgetSeparatorExtent, None, window)
        status = window.statusBar().sizeHint().height() if window.statusBar() else 0
        height = window.height() - window.menuBar().sizeHint().height() - status
        return cls(sep, window.width(), height, _clamp(window.width() * RIGHT_SHARE, RIGHT_MIN, RIGHT_MAX),
                   _clamp(height * BOTTOM_SHARE, BOTTOM_MIN, BOTTOM_MAX))

    @property
    def middle(self) -> int:
        """The height of the chart and of the right column."""
        return self.height - self.bottom - self.sep

    def fits_under_ticket(self, ticket: QDockWidget, below: QDockWidget) -> bool:
        """Whether the whole ticket and a usable dock below it fit in the right column."""
        return self.middle >= ticket.sizeHint().height() + below.minimumSizeHint().height() + self.sep


def arrange(window: "DockHost") -> None:
    """Put every dock in its default place and tab group, with the useful tab raised.

    Where the window is too low for the whole ticket and the Strategies dock under it (a laptop
    at 125 % scaling), Strategies becomes a tab behind the ticket, so no button is hidden.
    """
    with _still(window):
        _arrange(window)


def _arrange(window: "DockHost") -> None:
    docks = window.docks
    groups = {group: [name for name in group.docks if name in docks] for group in GROUPS}
    for name in docks:
        if not any(name in members for members in groups.values()):
            groups[_fallback_group(window, name)].append(name)
    if groups[TICKET] and groups[SETUP] and not Room.of(window).fits_under_ticket(
            docks[groups[TICKET][0]], docks[groups[SETUP][0]]):
        groups[TICKET] += groups[SETUP]
        groups[SETUP] = []
    for dock in docks.values():
        dock.setFloating(False)
        window.removeDockWidget(dock)
    first = {group: docks[members[0]] for group, members in groups.items() if members}
    _place(window, first, CHART, Qt.LeftDockWidgetArea)
    _place(window, first, TICKET, Qt.RightDockWidgetArea)
    _split(window, first, TICKET, SETUP, Qt.Vertical, Qt.RightDockWidgetArea)
    _place(window, first, FEEDS, Qt.BottomDockWidgetArea)
    _split(window, first, FEEDS, TRADES, Qt.Horizontal, Qt.BottomDockWidgetArea)
    for group, members in groups.items():
        for name in members[1:]:
            window.tabifyDockWidget(first[group], docks[name])
    for dock in docks.values():
        dock.show()
    for group, members in groups.items():
        if members:
            docks[group.raised if group.raised in members else members[0]].raise_()


def apply_default(window: "DockHost") -> None:
    """The whole default layout for the window's current size: places, tabs, sizes."""
    arrange(window)
    size_docks(window)


def size_docks(window: "DockHost") -> None:
    """Give the areas their default sizes for the window's current size (the chart takes the rest)."""
    with _still(window):
        _size_docks(window)


def _size_docks(window: "DockHost") -> None:
    docks = window.docks
    room = Room.of(window)

    def present(*names: str) -> list[QDockWidget]:
        return [docks[n] for n in names if n in docks and not docks[n].isFloating()]

    if column := present("ManualTradingDock") or present("StrategiesDock"):
        chart = present("ChartDock")
        window.resizeDocks(chart + column[:1], [room.width - room.right - 2 * room.sep] * len(chart) + [room.right],
                           Qt.Horizontal)
    if row := present("AlertsDock", "OrdersDock"):
        window.resizeDocks(row[:1], [room.bottom], Qt.Vertical)
    if len(row) == 2:
        feeds = int((room.width - room.sep) * FEEDS_SHARE)
        window.resizeDocks(row, [feeds, room.width - room.sep - feeds], Qt.Horizontal)
    column = present("ManualTradingDock", "StrategiesDock")
    if len(column) == 2 and column[1] not in window.tabifiedDockWidgets(column[0]):
        middle = room.middle if row else room.height
        ticket = min(column[0].sizeHint().height(), middle - column[1].minimumSizeHint().height() - room.sep)
        window.resizeDocks(column, [ticket, middle - ticket - room.sep], Qt.Vertical)


@contextmanager
def _still(window: "DockHost"):
    """Lay the docks out at once: animated, they would glide into place on the first start."""
    animated = window.isAnimated()
    window.setAnimated(False)
    try:
        yield
        window.layout().activate()
    finally:
        window.setAnimated(animated)


def _fallback_group(window: "DockHost", name: str) -> TabGroup:
    panel = window.panels.get(name)
    if panel is not None and panel.tabify_with:
        for group in GROUPS:
            if panel.tabify_with in group.docks:
                return group
    if name.startswith("ChartDock"):
        return CHART
    area = panel.area if panel is not None else Qt.BottomDockWidgetArea
    return FALLBACK.get(area, FEEDS)


def _place(window, first, group: TabGroup, area) -> None:
    if group in first:
        window.addDockWidget(area, first[group])


def _split(window, first, anchor: TabGroup, group: TabGroup, orientation, area) -> None:
    if group not in first:
        return
    if anchor in first:
        window.splitDockWidget(first[anchor], first[group], orientation)
    else:
        window.addDockWidget(area, first[group])


def _clamp(value: float, low: int, high: int) -> int:
    return int(max(low, min(high, value)))
