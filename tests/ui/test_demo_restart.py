"""The demo quit holding positions and started again: the window shows the PnL it showed, not a phantom loss.

The demo's replay starts again at 09:25 on every start (older prices than those the positions
were bought at); the positions keep the marks they had until the replay's clock passes them.
"""

import pytest

from support.launch import run_qt
from support.wait import until
from station.app import Options, Station
from station.ui.confirm import set_asks
from station.ui.launch import main_window


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


def demo(data_dir, secrets, replay_speed) -> Station:
    setup = Station(Options(data_dir=data_dir, port=0), secrets)
    setup.config.import_document({"settings": {"marketdata": {"replay_speed": replay_speed}}})
    setup.store.close()
    return Station(Options(data_dir=data_dir, port=0, demo=True), secrets)


def shown(window) -> tuple[str, list[tuple[str, str, str]]]:
    positions = window.dock_widget("PositionsDock").model
    rows = [(m.position.ticker, str(m.mark), str(m.unrealized_pnl)) for m in positions.records()]
    return window.status.pnl.text(), sorted(rows)


def test_the_window_after_a_restart_of_the_demo_shows_the_positions_as_they_were(qtbot, data_dir, secrets):
    async def first():
        station = demo(data_dir, secrets, 0)  # the whole sample at once: the positions are bought at its end
        await station.start()
        window = main_window(station)
        set_asks(window.settings, "order", False)
        window.show()
        await until(lambda: station.marketdata.replay.finished.is_set(), 60, what="the sample replayed")
        ticket = window.dock_widget("ManualTradingDock")
        ticket.confirm.setChecked(False)
        for ticker, side in (("ES", "buy"), ("NQ", "sell")):
            ticket.ticker.setCurrentText(ticker)
            ticket.buttons[side].click()
        book = station.oms.book
        await until(lambda: book.position("paper", "ES", "Demo") == 1 and book.position("paper", "NQ", "Demo") == -1)
        await until(lambda: len(window.dock_widget("PositionsDock").model.records()) == 2
                    and "+0.00" in window.status.pnl.text(), what="both positions shown at their fill prices")
        before = shown(window)
        window.close_without_asking()
        await station.stop()
        return before

    async def second():
        station = demo(data_dir, secrets, 1)  # 09:25 again, slowly
        await station.start()
        window = main_window(station)
        window.show()
        await until(lambda: station.oms.marks.feed_price("ES") is not None, what="the morning's prices")
        positions = window.dock_widget("PositionsDock").model
        await until(lambda: positions.records() and all(m.mark is not None for m in positions.records())
                    and station.oms.marks.version > 2, what="the positions marked since the replay began")
        window.bridge.flush()
        at_once = shown(window)
        await until(lambda: station.marketdata.replay.position_ns is not None)
        replayed_to = station.marketdata.now()
        window.close_without_asking()
        await station.stop()
        return at_once, replayed_to

    before = run_qt(first, timeout=90)
    after, replayed_to = run_qt(second)
    assert after == before, f"the replay is at {replayed_to:%H:%M} UTC: no phantom loss or gain"
    assert "PnL" in before[0] and len(before[1]) == 2
