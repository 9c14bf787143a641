"""The Positions dock's row buttons with a real Station at paper: Add stop/target makes working protective orders
that the row shows, Reverse reverses (cancelling them), Close flattens."""

from decimal import Decimal as D

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from support.launch import run_qt
from support.wait import until
from station.app import Options, Station

CONFIG = {"destinations": {"paper": {"type": "paper"}},
          "strategies": {"Momentum": {"tickers": {"ES": {"point_value": 50, "destinations": {"paper": {}}}}}}}


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


def click_row_button(dock, name, row=0):
    """Click a row's button where the delegate draws it (a real mouse click on the table)."""
    table = dock.table
    rect = table.visualRect(dock.proxy.index(row, dock.actions_column))
    button = dict(dock.actions.rects(rect, table.fontMetrics()))[name]
    QTest.mouseClick(table.viewport(), Qt.LeftButton, Qt.NoModifier, button.center())


def test_row_buttons_protect_reverse_and_close_a_position(qtbot, data_dir, secrets, tmp_path):
    from station.domain.commands import ManualOrder
    from station.domain.enums import Side
    from station.domain.events import TickReceived
    from station.domain.marketdata import Tick
    from station.domain.timeutil import utc_now
    from station.ui.bridge import UiBridge
    from station.ui.confirm import set_asks
    from station.ui.positions_dock import PositionsDock

    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat)
    set_asks(settings, "order", False)

    async def scenario():
        station = Station(Options(data_dir=data_dir, port=0), secrets)
        station.config.import_document(CONFIG)
        await station.start()
        book = station.oms.book
        bridge = UiBridge(station.bus)
        dock = PositionsDock(bridge, book.marked_positions(), orders=book.open_orders(), settings=settings)
        dock.resize(900, 260)
        dock.show()
        station.bus.publish(TickReceived(Tick("ES", utc_now(), 5000.0)))
        station.bus.publish(ManualOrder("b1", "Momentum", "ES", Side.BUY, D(2)))
        await until(lambda: dock.proxy.rowCount() == 1 and dock.model.records()[0].position.qty == 2, what="the row")
        seen = {}
        click_row_button(dock, "protect")
        dialog = dock.dialog
        seen["dialog"] = (dialog.price("stop"), dialog.price("target"))
        dialog.levels["stop"][1].setValue(12)  # ticks: the price follows
        dialog.levels["target"][2].set_price(D("5006.5"))  # a price: the ticks follow
        seen["linked"] = (dialog.price("stop"), dialog.levels["target"][1].value())
        dialog.grab().save("/tmp/orders-ui/protect_dialog.png")
        dialog.accept()
        await until(lambda: dock.model.data(dock.model.index(0, 4)) == "2", what="two open orders on the row")
        tooltip = lambda: dock.model.data(dock.model.index(0, 4), Qt.ToolTipRole)  # noqa: E731
        await until(lambda: tooltip().count(" working (") == 2, what="both working, as the row's tooltip says")
        tooltip = tooltip()
        seen["status"] = dock.status.text()
        protective = sorted((o.request.role.value, o.status.value, o.request.stop_price or o.request.limit_price)
                            for o in book.open_orders())
        station.bus.publish(TickReceived(Tick("ES", utc_now(), 5002.0)))
        await until(lambda: "+200.00" in dock.total.text(), what="marked at 5002")
        dock.grab().save("/tmp/orders-ui/positions.png")
        click_row_button(dock, "reverse")
        await until(lambda: book.position("paper", "ES", "Momentum") == -2, what="reversed")
        await until(lambda: dock.model.data(dock.model.index(0, 4)) == "", what="the exits left the row")
        await until(lambda: dock.model.records()[0].position.qty == -2, what="the row short 2")
        seen["reversed"] = dock.status.text()
        click_row_button(dock, "protect")  # the short gets a trailing stop instead of a stop
        dialog = dock.dialog
        dialog.trail_use.setChecked(True)
        dialog.levels["target"][0].setChecked(False)
        seen["trail_excludes_stop"] = (dialog.price("stop"), dialog.trail())
        dialog.trail_ticks.setValue(6)
        dialog.grab().save("/tmp/orders-ui/protect_dialog_trailing.png")
        dialog.accept()
        await until(lambda: [o for o in book.open_orders() if o.request.role.value == "trailing_stop"
                             and o.status.value == "working"], what="the trailing stop working")
        seen["trailing"] = [(o.request.side.value, o.request.stop_price, o.request.qty) for o in book.open_orders()]
        await until(lambda: "placed" in dock.status.text(), what="the answer said")
        seen["trailing_said"] = dock.status.text()
        click_row_button(dock, "close")
        await until(lambda: book.position("paper", "ES", "Momentum") == 0, what="closed")
        await until(lambda: "Close ES (Momentum at paper)" in dock.status.text() and "placed" in dock.status.text(), what="said")
        await station.stop()
        bridge.close()
        return seen, tooltip, protective

    seen, tooltip, protective = run_qt(scenario)
    assert seen["dialog"] == (D("4998"), D("5004"))
    assert seen["linked"] == (D("4997"), 26)
    assert seen["reversed"] == "Reverse ES (Momentum at paper): 1 order placed"
    assert seen["trail_excludes_stop"] == (None, 8)
    assert seen["trailing"] == [("buy", D("5003.5"), D(2))]  # 6 ticks over the last price, 5002
    assert "Protect ES at paper: trailing stop 6 ticks: 1 order placed" in seen["trailing_said"]
    assert "Protect ES at paper: stop 4,997.00, target 5,006.50: 2 orders placed" in seen["status"]
    assert protective == [("stop_loss", "working", D("4997")), ("take_profit", "working", D("5006.5"))]
    assert "STP Sell 2 @ 4,997.00 working (stop loss)" in tooltip and "LMT Sell 2 @ 5,006.50 working (take profit)" in tooltip
