"""The default layout, Reset layout, sizes on a laptop, menus with shortcuts, empty-table hints, the PnL light."""

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QApplication, QDockWidget, QHeaderView, QPushButton, QScrollArea, QTableView

from station.domain.enums import Side
from station.domain.events import PositionsMarked
from station.domain.positions import Position
from station.domain.pnl import MarkedPosition
from station.domain.timeutil import utc_now
from station.ui import layout
from station.ui.launch import dock_context, main_window
from station.ui.main_window import MINIMUM_SIZE, MainWindow
from station.ui.table_model import Column, RecordTableModel, make_table
from support.wait import wait_until
from test_ui_window import dark_theme, station  # noqa: F401  (fixtures: the theme, a Station not started)

LAPTOP = (1280, 800)


def open_window(qtbot, station, size=LAPTOP) -> MainWindow:
    window = main_window(station)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    settled(window)
    return window


def settled(window: MainWindow) -> None:
    """Until the docks and scroll bars stop moving (Qt lays them out on posted events, a pass or two)."""
    def state():
        QApplication.processEvents()
        return ([d.geometry().getRect() for d in window.docks.values()],
                [(a.verticalScrollBar().isVisible(), a.horizontalScrollBar().isVisible())
                 for a in window.findChildren(QScrollArea)])

    previous = [state()]

    def still() -> bool:
        now = state()
        same, previous[0] = now == previous[0], now
        return same

    wait_until(still, what="the layout to settle")


def raised(window: MainWindow) -> set[str]:
    """Docks drawn on screen: alone in their place, or the current tab of their group."""
    return {name for name, dock in window.docks.items() if dock.isVisible() and not dock.visibleRegion().isEmpty()}


def tab_groups(window: MainWindow) -> set[frozenset[str]]:
    groups = set()
    for name, dock in window.docks.items():
        others = {o.objectName() for o in window.tabifiedDockWidgets(dock)}
        groups.add(frozenset(others | {name}))
    return groups


def snapshot(window: MainWindow) -> dict:
    return {"areas": {n: window.dockWidgetArea(d) for n, d in window.docks.items()},
            "groups": tab_groups(window), "raised": raised(window),
            "geometry": {n: d.geometry().getRect() for n, d in window.docks.items() if n in raised(window)}}


def test_first_start_shows_the_useful_tabs_and_a_large_chart(qtbot, station):
    window = open_window(qtbot, station)
    assert raised(window) == {"ChartDock", "ManualTradingDock", "StrategiesDock", "AlertsDock", "OrdersDock"}
    groups = tab_groups(window)
    assert frozenset({"OrdersDock", "PositionsDock", "FillsDock", "AccountsDock"}) in groups
    assert {"AlertsDock", "LogDock", "EngineDock", "IbDock"} <= next(g for g in groups if "AlertsDock" in g)
    docks = window.docks
    assert window.dockWidgetArea(docks["ChartDock"]) == Qt.LeftDockWidgetArea
    assert window.dockWidgetArea(docks["ManualTradingDock"]) == Qt.RightDockWidgetArea
    assert window.dockWidgetArea(docks["AlertsDock"]) == window.dockWidgetArea(docks["OrdersDock"]) == Qt.BottomDockWidgetArea
    chart = docks["ChartDock"].geometry()
    assert chart.width() >= 0.7 * window.width() and chart.height() >= 0.6 * window.height()
    alerts = docks["AlertsDock"].widget().table
    assert alerts.viewport().height() >= 5 * alerts.verticalHeader().defaultSectionSize()  # not two rows
    assert docks["AlertsDock"].geometry().width() > 560 and docks["OrdersDock"].geometry().width() > 620


@pytest.mark.parametrize("size", [LAPTOP, MINIMUM_SIZE])
def test_manual_trading_is_whole_on_a_laptop_and_at_the_minimum_size(qtbot, station, size):
    window = open_window(qtbot, station, size)
    ticket = window.dock_widget("ManualTradingDock")
    scroll = ticket.findChild(QScrollArea)
    assert ticket.height() >= ticket.content.sizeHint().height()
    assert not scroll.verticalScrollBar().isVisible() and not scroll.horizontalScrollBar().isVisible()
    for button in ticket.findChildren(QPushButton):
        assert button.width() >= button.sizeHint().width() and button.height() >= button.minimumHeight()
        assert not button.visibleRegion().isEmpty(), button.text()
    assert "ManualTradingDock" in raised(window)
    strategies = window.docks["StrategiesDock"]
    stacked = strategies not in window.tabifiedDockWidgets(window.docks["ManualTradingDock"])
    assert stacked == (size == LAPTOP)  # too low for both: Strategies is the ticket's second tab


def test_the_window_fits_a_laptop_screen(qtbot, station):
    window = open_window(qtbot, station)
    hint = window.minimumSizeHint()
    assert hint.width() <= MINIMUM_SIZE[0] and hint.height() <= MINIMUM_SIZE[1]
    assert window.minimumSize().width() <= MINIMUM_SIZE[0] and window.minimumSize().height() <= MINIMUM_SIZE[1]


def test_reset_layout_returns_to_exactly_the_default(qtbot, station):
    window = open_window(qtbot, station)
    default = snapshot(window)
    docks = window.docks
    window.addDockWidget(Qt.LeftDockWidgetArea, docks["LogDock"])
    window.tabifyDockWidget(docks["AlertsDock"], docks["ManualTradingDock"])
    docks["OrdersDock"].setFloating(True)
    docks["ChartDock"].close()
    docks["FillsDock"].raise_()
    window.resizeDocks([docks["AlertsDock"]], [120], Qt.Vertical)
    settled(window)
    assert snapshot(window) != default
    window.reset_layout()
    settled(window)
    assert snapshot(window) == default
    assert all(not d.isFloating() and d.toggleViewAction().isChecked() for d in docks.values())


def test_a_saved_layout_is_restored_not_replaced_by_the_default(qtbot, station):
    window = open_window(qtbot, station)
    window.resizeDocks([window.docks["AlertsDock"]], [360], Qt.Vertical)
    window.docks["FillsDock"].raise_()
    settled(window)
    saved = snapshot(window)
    window.close()

    again = open_window(qtbot, station)
    assert snapshot(again) == saved


def test_a_dock_the_layout_does_not_know_joins_its_panels_area(qtbot, station):
    from PySide6.QtWidgets import QLabel

    from station.ui.panels import Panel

    window = main_window(station)
    qtbot.addWidget(window)
    window.add_panel(Panel("ExtraDock", "Extra", Qt.RightDockWidgetArea, lambda context, host: QLabel("extra")))
    window.reset_layout()
    assert window.dockWidgetArea(window.docks["ExtraDock"]) == Qt.RightDockWidgetArea
    assert window.docks["ExtraDock"] in window.tabifiedDockWidgets(window.docks["StrategiesDock"])


def test_menus_list_the_keyboard_shortcuts(qtbot, station):
    from station.ui.manual_panel import SHORTCUTS

    window = open_window(qtbot, station)
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    assert list(menus) == ["&File", "&View", "&Trading", "&Settings", "&Webhook", "&Help"]
    trading = [a.text() for a in menus["&Trading"].actions() if not a.isSeparator()]
    for key in ("buy", "sell", "close", "reverse", "flatten", "kill"):
        assert any(text.endswith("\t" + SHORTCUTS[key]) for text in trading), key
    view = {a.text(): a for a in menus["&View"].actions()}
    assert view["&Reset layout"].shortcut().toString() == "Ctrl+Shift+R"
    go_to = {a.text(): a for a in view["&Go to"].menu().actions()}
    assert go_to["&Positions && PnL"].shortcut().toString() == "Ctrl+3"
    go_to["&Positions && PnL"].trigger()
    assert "PositionsDock" in raised(window) and "OrdersDock" not in raised(window)
    docks = [a.text() for a in menus["&View"].actions()][:4]
    assert docks == ["Alerts", "Orders", "Positions && PnL", "Fills"]


def test_trading_menu_runs_the_panels_actions(qtbot, station):
    window = open_window(qtbot, station)
    ticket = window.dock_widget("ManualTradingDock")
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Trading")
    next(a for a in menu.actions() if a.text().startswith("&Buy")).trigger()
    assert "Choose a strategy and a ticker first" in ticket.result.text()  # nothing configured: said, not sent


def test_status_bar_shows_the_total_pnl(qtbot, station):
    window = open_window(qtbot, station)
    assert "+0.00" in window.status.pnl.text()
    now = utc_now()
    winner = Position("paper", "ES", "A", qty=Decimal(2), avg_price=Decimal(5000), realized_pnl=Decimal(100))
    loser = Position("paper", "NQ", "B", realized_pnl=Decimal(-40))
    station.bus.publish(PositionsMarked((MarkedPosition(winner, Decimal(5010), Decimal(1000), now),
                                         MarkedPosition(loser, None, Decimal(0), now))))
    window.bridge.flush()
    assert "+1,060.00" in window.status.pnl.text()
    assert "1 open" in window.status.pnl.toolTip()


def test_empty_tables_say_why_and_the_hint_goes_with_the_first_row(qtbot):
    columns = [Column("Ticker", lambda r: r)]
    model = RecordTableModel(columns)
    view = make_table(model, columns, empty="No orders yet.")
    qtbot.addWidget(view)
    view.show()
    assert view.empty_hint.isVisible() and view.empty_hint.text() == "No orders yet."
    model.upsert(["ES"])
    assert not view.empty_hint.isVisible()
    model.clear()
    assert view.empty_hint.isVisible()


def test_a_filter_that_hides_every_row_says_so(qtbot):
    from station.ui.table_model import FILTERED, TextFilterProxy

    columns = [Column("Ticker", lambda r: r)]
    model = RecordTableModel(columns)
    proxy = TextFilterProxy()
    proxy.setSourceModel(model)
    view = make_table(proxy, columns, empty="No alerts yet.")
    qtbot.addWidget(view)
    view.show()
    assert view.empty_hint.text() == "No alerts yet."
    model.upsert(["ES", "NQ"])
    proxy.set_text("CL")
    assert view.empty_hint.isVisible() and view.empty_hint.text() == FILTERED
    proxy.set_text("")
    assert not view.empty_hint.isVisible()


def test_no_column_title_is_cut_and_numbers_align_with_their_titles(qtbot, station):
    window = open_window(qtbot, station, (1600, 1000))
    tables = [t for d in window.docks.values() for t in d.widget().findChildren(QTableView)]
    assert len(tables) >= 12
    for table in tables:
        header, model = table.horizontalHeader(), table.model()
        bold = QFont(table.font())
        bold.setWeight(QFont.DemiBold)
        titles = QFontMetrics(bold)
        for section in range(model.columnCount()):
            title = model.headerData(section, Qt.Horizontal)
            if header.sectionResizeMode(section) != QHeaderView.Stretch:
                assert header.sectionSize(section) >= titles.horizontalAdvance(title) + 12, title
            cell = model.headerData(section, Qt.Horizontal, Qt.TextAlignmentRole)
            source = getattr(model, "sourceModel", lambda: model)() or model
            column = source.columns[section] if hasattr(source, "columns") else None
            if column is not None:
                assert int(column.align) == cell, title


def test_every_side_is_coloured_buy_green_sell_red():
    from station.ui import theme
    from station.ui.trading_format import side_color

    assert side_color(Side.BUY) == side_color("BUY") == theme.GREEN
    assert side_color(Side.SELL) == side_color("sell") == theme.RED


def test_tradingview_setup_fits_an_800_pixel_screen(qtbot, station):
    from station.ui.tradingview_setup import TradingViewSetup

    setup = TradingViewSetup(dock_context(station), None, first_start=True)
    qtbot.addWidget(setup.dialog)
    assert setup.dialog.minimumSizeHint().height() <= 720
    assert setup.message.font().fixedPitch() or QFontMetrics(setup.message.font()).horizontalAdvance("i") == \
        QFontMetrics(setup.message.font()).horizontalAdvance("M")


def test_layout_groups_name_every_panel():
    from station.ui.panels import PANELS

    named = {name for group in layout.GROUPS for name in group.docks}
    assert {panel.object_name for panel in PANELS} <= named
    assert all(group.raised in group.docks for group in layout.GROUPS)


def test_every_dock_keeps_its_object_name_after_reset(qtbot, station):
    window = open_window(qtbot, station)
    window.reset_layout()
    assert all(isinstance(d, QDockWidget) and d.objectName() == n for n, d in window.docks.items())


def column_right_edge(table: QTableView, title: str) -> int:
    model = table.model()
    titles = [model.headerData(c, Qt.Horizontal) for c in range(model.columnCount())]
    header = table.horizontalHeader()
    index = titles.index(title)
    return header.sectionPosition(index) + header.sectionSize(index)


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_tables_read_in_full_on_common_screens(qtbot, station, size):
    """Orders' Type and Destination, the Alerts' Detail and a few rows of positions, with no scrolling."""
    from station.ui.alerts_dock import AlertRow

    window = open_window(qtbot, station, size)
    window.reset_layout()
    settled(window)
    orders = window.dock_widget("OrdersDock").table
    for title in ("Type", "Destination"):
        assert column_right_edge(orders, title) <= orders.viewport().width(), f"Orders' {title} is cut at {size}"
    cells = QFontMetrics(orders.font())
    type_column = [c.title for c in window.dock_widget("OrdersDock").model.columns].index("Type")
    assert orders.horizontalHeader().sectionSize(type_column) >= cells.horizontalAdvance("market") + 8  # not "mar"
    alerts = window.dock_widget("AlertsDock")
    alerts.model.upsert([AlertRow(key=1, received_at=utc_now(), ticker="ES", action="buy", status="routed",
                                  alert_id=1, reason="2 orders → paper, ib")])
    detail = [c.title for c in alerts.model.columns].index("Detail")
    assert column_right_edge(alerts.table, "Detail") <= alerts.table.viewport().width()
    assert alerts.table.horizontalHeader().sectionSize(detail) >= cells.horizontalAdvance("2 orders → paper, ib")
    window.docks["PositionsDock"].raise_()
    settled(window)
    positions = window.dock_widget("PositionsDock").table
    assert positions.viewport().height() >= 4 * positions.verticalHeader().defaultSectionSize()  # not two rows


def test_a_wider_window_widens_the_chart_and_the_column_keeps_the_width_the_trader_gave_it(qtbot, station):
    """Qt gave a maximised window's extra width to the right column (a 1,276-px ticket on a 2560 screen)."""
    window = open_window(qtbot, station, (1366, 768))
    docks = window.docks
    ticket, chart = docks["ManualTradingDock"], docks["ChartDock"]
    laid_out = ticket.width()
    for size in ((1920, 1080), (1366, 768), (2400, 1300), LAPTOP):
        window.resize(*size)
        settled(window)
        assert ticket.width() == laid_out, size
        assert chart.width() > window.width() - laid_out - 30, size
    window.resizeDocks([chart, ticket], [chart.width() + ticket.width() - 400, 400], Qt.Horizontal)  # dragged
    settled(window)
    assert ticket.width() == 400
    window.resize(1920, 1080)
    settled(window)
    assert ticket.width() == 400 and chart.width() > 1400
    window.resize(*MINIMUM_SIZE)
    settled(window)
    assert ticket.width() <= max(400, ticket.minimumSizeHint().width())
    window.resize(1920, 1080)
    settled(window)
    assert ticket.width() == 400  # a narrow moment does not shrink what the trader chose
