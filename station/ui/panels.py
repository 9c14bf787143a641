"""The docks the main window offers. Each capability adds its own entry here.

A builder makes a dock from the `DockContext`; the window itself (`DockHost`) is handed
only to the glue around it here: menus, the status line, the chart manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMenu, QMenuBar, QStatusBar, QWidget

from station.ui.context import DockContext


class DockHost(Protocol):
    """What window-level code (panel glue, chart docks, the layout) uses of the main window (a QMainWindow)."""

    context: DockContext
    docks: dict[str, QDockWidget]
    panels: dict[str, "Panel"]
    view_menu: QMenu

    def add_panel(self, panel: "Panel") -> QDockWidget: ...

    def add_view_action(self, action: QAction) -> None: ...

    def menuBar(self) -> QMenuBar: ...  # noqa: N802

    def statusBar(self) -> QStatusBar: ...  # noqa: N802


@dataclass(frozen=True)
class Panel:
    """A dock: stable object name (layouts restore by it), title, default area, and its builder."""

    object_name: str
    title: str
    area: Qt.DockWidgetArea
    build: Callable[[DockContext, DockHost], QWidget]
    tabify_with: str | None = None


def _log(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.log_dock import LogDock

    return LogDock(buffer=context.log_buffer)


def _engine(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.engine_dock import EngineDock

    return EngineDock(context)


def _watchlist(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.watchlist_dock import WatchlistDock

    return WatchlistDock(context.bridge)


def _script_feed(context: DockContext, host: DockHost) -> QWidget:
    from station.domain.events import ScriptDataReceived
    from station.ui.script_feed_dock import ScriptFeedDock

    dock = ScriptFeedDock(context.queries.script_feed)
    context.bridge.on(ScriptDataReceived, dock.on_uploads)
    return dock


def _ninjatrader(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.ninjatrader_dock import NinjaTraderDock

    return NinjaTraderDock(context)


def _orders(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.orders_dock import OrdersDock

    return OrdersDock(context.bridge, context.queries.orders)


def _fills(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.orders_dock import FillsDock

    return FillsDock(context.bridge, context.queries.orders)


def _positions(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.positions_dock import PositionsDock

    from station.ui.order_ticket import configured_tick

    return PositionsDock(context.bridge, context.queries.book.marked_positions(),
                         orders=context.queries.book.open_orders(), settings=context.settings,
                         tick=lambda ticker: configured_tick(context.queries.config.load(), ticker))


def _accounts(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.accounts_dock import AccountsDock

    return AccountsDock(context.bridge, context.queries.accounts)


def _manual(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.manual_panel import ManualTradingDock
    from station.ui.trading_menu import add_trading_menu

    panel = ManualTradingDock(context.bridge, context.queries.config.load, context.settings,
                              context.queries.book.kill_switch_reason, focus=context.focus,
                              prices=context.queries.book.marks, choice=context.ticket)
    add_trading_menu(host, panel)
    return panel


def _strategies(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.strategies_dock import StrategiesDock

    return StrategiesDock(context)


def _chart(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.chart.manager import chart_docks

    return chart_docks(host).build()


def _ib(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.ib_dock import IbDock

    return IbDock(context)


def _alerts(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.alerts_dock import AlertsDock, add_webhook_menu

    dock = AlertsDock(context)
    dock.notice.connect(host.statusBar().showMessage)
    add_webhook_menu(host, dock)
    return dock


def _backtest(context: DockContext, host: DockHost) -> QWidget:
    from station.ui.backtest_dock import BacktestDock

    return BacktestDock(context)


PANELS: list[Panel] = [
    Panel("LogDock", "Log", Qt.BottomDockWidgetArea, _log),
    Panel("AlertsDock", "Alerts", Qt.TopDockWidgetArea, _alerts),
    Panel("EngineDock", "Engine", Qt.BottomDockWidgetArea, _engine, tabify_with="LogDock"),
    Panel("WatchlistDock", "Pairs watchlist", Qt.RightDockWidgetArea, _watchlist),
    Panel("ScriptFeedDock", "Script Feed", Qt.BottomDockWidgetArea, _script_feed, tabify_with="LogDock"),
    Panel("NinjaTraderDock", "NinjaTrader", Qt.BottomDockWidgetArea, _ninjatrader, tabify_with="LogDock"),
    Panel("StrategiesDock", "Strategies", Qt.LeftDockWidgetArea, _strategies),
    Panel("ManualTradingDock", "Manual Trading", Qt.RightDockWidgetArea, _manual),
    Panel("PositionsDock", "Positions && PnL", Qt.RightDockWidgetArea, _positions),
    Panel("OrdersDock", "Orders", Qt.BottomDockWidgetArea, _orders, tabify_with="LogDock"),
    Panel("FillsDock", "Fills", Qt.BottomDockWidgetArea, _fills, tabify_with="OrdersDock"),
    Panel("AccountsDock", "Accounts", Qt.BottomDockWidgetArea, _accounts, tabify_with="OrdersDock"),
    Panel("ChartDock", "Chart", Qt.LeftDockWidgetArea, _chart),
    Panel("IbDock", "Interactive Brokers", Qt.BottomDockWidgetArea, _ib, tabify_with="LogDock"),
    Panel("BacktestDock", "Backtest", Qt.BottomDockWidgetArea, _backtest, tabify_with="LogDock"),
]
