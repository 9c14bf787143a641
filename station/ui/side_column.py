"""The side column keeps its width when the window's width changes; the chart takes (or gives) the difference.

With no central widget to grow (`layout.chart_room` has no width), Qt hands a wider window's extra width to
the right dock area: maximised on a 2560-px screen, the Manual Trading column became 1,276 px wide and the
chart as narrow, and it never came back. The column's width is the one the layout gave it or the trader
dragged it to; a window too narrow for it gets a narrower column for the time being, never a narrower memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget

if TYPE_CHECKING:
    from station.ui.panels import DockHost

MAX_SHARE = 0.45  # of the window's width, at most, for the side column (the chart keeps the rest)
OTHER_SIDE = {Qt.LeftDockWidgetArea: Qt.RightDockWidgetArea, Qt.RightDockWidgetArea: Qt.LeftDockWidgetArea}


class SideColumn(QObject):
    """Remembers the side column's width (dragged or laid out) and restores it after the window's width changes."""

    def __init__(self, window: "DockHost") -> None:
        super().__init__(window)
        self.window = window
        self.width: int | None = None  # the column's own width, as the trader has it
        self._window_width: int | None = None  # the window's width when that was noted
        self._restoring = False

    def watch(self, dock: QDockWidget) -> None:
        dock.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        # a column resized while the window kept its width: a dragged separator, a dock shown or moved
        if (event.type() == QEvent.Resize and not self._restoring and self.window.width() == self._window_width
                and watched is self.column()):
            self.note()
        return False

    def column(self) -> QDockWidget | None:
        """A dock on screen in the area across from the chart (the right column by default); a tab behind
        another counts as visible to Qt, with no region on screen."""
        chart = self.window.docks.get("ChartDock")
        if chart is None or not _on_screen(chart):
            return None
        across = OTHER_SIDE.get(self.window.dockWidgetArea(chart))
        for dock in self.window.docks.values():
            if _on_screen(dock) and self.window.dockWidgetArea(dock) == across:
                return dock
        return None

    def note(self) -> None:
        """The layout as it stands is the trader's: remember the column's width."""
        column = self.column()
        self._window_width = self.window.width()
        if column is not None:
            self.width = column.width()

    def window_resized(self) -> None:
        """Called from the window's resizeEvent (Qt has laid the docks out for the new size by then): put the
        column back to its width."""
        if self._window_width is not None and self.window.width() != self._window_width:
            self._restore()

    def _restore(self) -> None:
        column, chart = self.column(), self.window.docks.get("ChartDock")
        self._window_width = self.window.width()
        if column is None or self.width is None:
            return
        width = max(column.minimumSizeHint().width(), min(self.width, int(self.window.width() * MAX_SHARE)))
        if column.width() != width:
            self._restoring = True
            try:
                room = chart.width() + column.width()  # the chart takes the rest of the width they share
                self.window.resizeDocks([chart, column], [room - width, width], Qt.Horizontal)
                self.window.layout().activate()
            finally:
                self._restoring = False


def _on_screen(dock: QDockWidget) -> bool:
    return not dock.isFloating() and dock.isVisible() and not dock.visibleRegion().isEmpty()
