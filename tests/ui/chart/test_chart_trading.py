"""Chart trading in the window with a real Station at paper: the right-click menu places an order at the tick-rounded
price with the ticket's choices; working orders, held exits and the average entry are labelled lines; a drag makes
exactly one ChangeOrder and moves the order; the × cancels; fills are markers."""

from decimal import Decimal as D

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QMenu

from support.launch import run_qt
from support.wait import until
from station.app import Options, Station

CONFIG = {"destinations": {"paper": {"type": "paper"}},
          "strategies": {"Momentum": {"tickers": {"ES": {"point_value": 50, "destinations": {"paper": {}}}}}}}


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


def bars_around(price, n=120):
    from datetime import UTC, datetime

    from station.domain.marketdata import BarColumns

    start = int(datetime(2026, 3, 2, 14, 30, tzinfo=UTC).timestamp()) * 10**9 + np.arange(n, dtype=np.int64) * 60 * 10**9
    close = price + 0.25 * np.round(4 * 16 * np.sin(np.linspace(0, 3 * np.pi, n)))  # ±16 points, ending at `price`
    open_ = np.concatenate(([close[0]], close[:-1]))
    return BarColumns("ES", "1m", start, open_, np.maximum(open_, close) + 0.75, np.minimum(open_, close) - 0.75,
                      close, np.full(n, 10.0))


def mouse(widget, kind, pos: QPoint, button, buttons):
    event = QMouseEvent(kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), button, buttons, Qt.NoModifier)
    QApplication.sendEvent(widget, event)


def at_price(view, trading, price, x_share=0.5) -> QPoint:
    """The view's pixel of `price`, `x_share` across the plot."""
    rect = view.price.sceneBoundingRect()
    scene = QPointF(rect.left() + rect.width() * x_share, trading.scene_y(price))
    return view.mapFromScene(scene)


def test_chart_trading_places_moves_and_cancels_orders_drawn_as_lines(qtbot, data_dir, secrets):
    from station.domain.commands import ChangeOrder
    from station.domain.enums import Side
    from station.domain.events import BarsLoaded, TickReceived
    from station.domain.marketdata import Tick
    from station.domain.timeutil import utc_now
    from station.ui.bracket_templates import BracketTemplate, save_templates
    from station.ui.confirm import set_asks
    from station.ui.launch import main_window

    async def scenario():
        station = Station(Options(data_dir=data_dir, port=0), secrets)
        station.config.import_document(CONFIG)
        await station.start()
        book = station.oms.book
        station.bus.publish(TickReceived(Tick("ES", utc_now(), 5000.0)))
        window = main_window(station)
        set_asks(window.context.settings, "order", False)
        save_templates(window.context.settings, [BracketTemplate("Scalp", 8, 16)])
        window.resize(1400, 900)
        window.show()
        chart = window.dock_widget("ChartDock")
        ticket = window.dock_widget("ManualTradingDock")
        trading, view = chart.trading, chart.view
        station.bus.publish(BarsLoaded(bars_around(5000.0)))
        await until(lambda: len(view.series) == 120, what="the chart's bars")
        await until(lambda: ticket.ticker.currentText() == "ES" and ticket.strategy.currentText() == "Momentum",
                    what="the ticket on the chart's symbol")
        ticket.qty.setValue(1)
        ticket.buttons["buy"].click()  # a position: its average is a line, its fill a marker
        await until(lambda: "Avg 5,000.00 +1" in [line.text() for line in trading.lines.values()], what="avg line")
        await until(lambda: any(m.kind == "fill" for m in view.markers), what="the fill's marker")
        fill_marker = next(m for m in view.markers if m.kind == "fill")
        ticket.qty.setValue(2)
        ticket.fields.destination.setCurrentIndex(ticket.fields.destination.findData("paper"))
        ticket.fields.set_templates([BracketTemplate("Scalp", 8, 16)], keep="Scalp")

        pos = at_price(view, trading, 4990.3)  # a real right-click in the plot
        mouse(view.viewport(), QEvent.MouseButtonPress, pos, Qt.RightButton, Qt.RightButton)
        mouse(view.viewport(), QEvent.MouseButtonRelease, pos, Qt.RightButton, Qt.NoButton)
        await until(lambda: trading.menu is not None and trading.menu.isVisible(), what="the menu")
        labels = [a.text() for a in trading.menu.actions() if a.text()]
        buy = next(a for a in trading.menu.actions() if a.text().startswith("Buy limit"))
        trading.menu.close()
        before = set(book.orders)
        buy.trigger()
        await until(lambda: len(set(book.orders) - before) == 3, what="entry and its exits")
        entry = next(o for o in book.orders.values() if o.client_order_id in set(book.orders) - before
                     and o.request.role.value == "entry")
        coid = entry.client_order_id
        await until(lambda: book.orders[coid].status.value == "working", what="the limit working")
        await until(lambda: len(trading.lines) == 4, what="four lines")
        texts = sorted(line.text() for line in trading.lines.values())
        chart.grab().save("/tmp/orders-ui/chart_lines.png")

        changes = []
        off = station.bus.subscribe(ChangeOrder, changes.append)
        line = trading.lines[coid]
        start, end = at_price(view, trading, 4990.25, 0.4), at_price(view, trading, 4997.6, 0.4)
        mouse(view.viewport(), QEvent.MouseButtonPress, start, Qt.LeftButton, Qt.LeftButton)
        for step in range(1, 7):
            mouse(view.viewport(), QEvent.MouseMove, start + (end - start) * step / 6, Qt.NoButton, Qt.LeftButton)
        mouse(view.viewport(), QEvent.MouseButtonRelease, end, Qt.LeftButton, Qt.NoButton)
        await until(lambda: book.orders[coid].request.limit_price == D("4997.5"), what="the order moved")
        await until(lambda: line.text() == "LMT Buy 2 @ 4,997.50", what="the line says so")
        moved = (len(changes), changes[0].limit_price, line.value())
        off()

        cancel = line.cancel_mark
        click = view.mapFromScene(cancel.mapToScene(cancel.boundingRect().center()))
        mouse(view.viewport(), QEvent.MouseButtonPress, click, Qt.LeftButton, Qt.LeftButton)
        mouse(view.viewport(), QEvent.MouseButtonRelease, click, Qt.LeftButton, Qt.NoButton)
        await until(lambda: book.orders[coid].status.value == "cancelled", what="cancelled by the ×")
        await until(lambda: {x.status.value for x in book.exits(coid)} == {"cancelled"}, what="its exits with it")
        await until(lambda: sorted(trading.lines) == [k for k in trading.lines if k.startswith("avg:")],
                    what="only the average's line left")
        await station.stop()
        window.close_without_asking()
        return labels, entry, texts, moved, fill_marker

    labels, entry, texts, moved, fill_marker = run_qt(scenario)
    assert (fill_marker.side, fill_marker.price) == ("buy", 5000.0)
    assert fill_marker.text.startswith("Fill Buy 1 ES @ 5,000.00 · ") and fill_marker.text.endswith("ET (Momentum at paper)")
    assert labels[:2] == ["Buy limit 2 @ 4,990.25", "Sell stop 2 @ 4,990.25"]
    request = entry.request
    assert (request.side, request.order_type.value, request.limit_price, request.qty, request.destination) == \
        (Side.BUY, "limit", D("4990.25"), D(2), "paper")
    assert texts == ["Avg 5,000.00 +1", "LMT Buy 2 @ 4,990.25", "STP -2 @ 4,988.25 held", "TGT -2 @ 4,994.25 held"]
    assert moved == (1, D("4997.5"), 4997.5)
