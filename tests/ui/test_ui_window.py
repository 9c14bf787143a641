"""The main window offscreen: docks, status bar, layout persistence, Log dock, forms."""

import logging

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDockWidget

from support.launch import free_port, run_qt
from support.wait import until
from station.app import Options, Station
from station.domain.enums import ConnectionState
from station.domain.events import ConnectionChanged, ErrorRaised
from station.ui.forms import all_forms, load_form
from station.ui.launch import dock_context, main_window


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


@pytest.fixture
def station(data_dir, secrets):
    core = Station(Options(data_dir=data_dir, port=free_port()), secrets)
    yield core
    core.store.close()


def test_window_opens_with_its_docks_and_a_real_screenshot(qtbot, data_dir, secrets, tmp_path):
    async def scenario():
        core = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        await core.start()
        window = main_window(core)
        window.show()
        core.bus.publish(ConnectionChanged("paper", "broker", ConnectionState.CONNECTED))
        logging.getLogger("station.test").warning("a warning for the Log dock")
        log_model = window.dock_widget("LogDock").model
        await until(lambda: "paper" in window.status.lights  # the bridge's and the Log dock's timers flushed
                    and any("a warning for the Log dock" in r.message for r in log_model.records()),
                    what="the light and the log line")
        image = window.grab().toImage()
        window.grab().save(str(tmp_path / "window.png"))
        window.close()
        await core.stop()
        return window, image

    window, image = run_qt(scenario)
    assert set(window.docks) >= {"LogDock"}
    assert window.status.receiver.text().startswith("Receiver: http://127.0.0.1:")
    assert window.status.lights["paper"].state is ConnectionState.CONNECTED
    log_model = window.dock_widget("LogDock").model
    assert any("a warning for the Log dock" in r.message for r in log_model.records())
    assert image.width() >= 600 and image.height() >= 400
    path = tmp_path / "window.png"
    assert path.stat().st_size > 5000
    colors = {image.pixelColor(x, y).name() for x in range(0, image.width(), 37) for y in range(0, image.height(), 23)}
    assert len(colors) > 3  # not a blank surface
    dark = image.pixelColor(image.width() // 2, image.height() // 3)
    assert dark.lightness() < 90  # the dark theme is applied


def test_layout_and_geometry_persist_across_restarts_and_reset(qtbot, station):
    window = main_window(station)
    qtbot.addWidget(window)
    window.show()
    dock = window.docks["LogDock"]
    window.addDockWidget(Qt.LeftDockWidgetArea, dock)
    window.resize(701, 502)  # the window keeps its minimum size; the offscreen screen is 800x600
    saved = (window.width(), window.height())
    window.close()

    again = main_window(station)
    qtbot.addWidget(again)
    again.show()
    assert again.dockWidgetArea(again.docks["LogDock"]) == Qt.LeftDockWidgetArea
    assert (again.width(), again.height()) == saved
    again.reset_layout()
    assert again.dockWidgetArea(again.docks["LogDock"]) == Qt.BottomDockWidgetArea
    assert all(d.isVisible() for d in again.docks.values())


def test_view_menu_lists_every_dock(qtbot, station):
    window = main_window(station)
    qtbot.addWidget(window)
    titles = [a.text() for a in window.view_menu.actions()]
    assert "Log" in titles and "&Reset layout" in titles


def test_errors_reach_the_status_bar(qtbot, station):
    window = main_window(station)
    qtbot.addWidget(window)
    station.bus.publish(ErrorRaised("loop", "RuntimeError: boom"))
    window.bridge.flush()
    assert "RuntimeError: boom" in window.status.currentMessage()


def test_log_dock_filters_by_level_source_and_text(qtbot):
    from station.ui.log_dock import LogDock

    dock = LogDock()
    qtbot.addWidget(dock)
    logging.getLogger("station.web").info("alert 17 queued")
    logging.getLogger("station.oms").warning("order rejected")
    logging.getLogger("station.oms").debug("debug detail")
    dock.pull()
    shown = lambda: [dock.proxy.data(dock.proxy.index(r, 3)) for r in range(dock.proxy.rowCount())]  # noqa: E731
    assert set(shown()) >= {"alert 17 queued", "order rejected"} and "debug detail" not in shown()
    dock.level.setCurrentText("Warning")
    assert "alert 17 queued" not in shown() and "order rejected" in shown()
    dock.level.setCurrentText("Debug")
    dock.source.setCurrentText("oms")
    assert "alert 17 queued" not in shown() and "debug detail" in shown()
    dock.source.setCurrentText("All sources")
    dock.search.setText("alert 17")  # not "17": the ET clock column matches it from 17:00 to 17:59
    assert shown() == ["alert 17 queued"]
    dock.detach()


def test_the_log_dock_shows_what_start_up_said(qtbot, data_dir, secrets):
    """As `station` does: a buffer is attached before Station starts, the Log dock takes it over."""
    from station.logs import add_handler
    from station.ui.log_dock import LogBuffer

    async def scenario():
        buffer = add_handler(LogBuffer())
        core = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        await core.start()
        window = main_window(core, buffer)
        dock = window.dock_widget("LogDock")
        dock.pull()
        messages = [r.message for r in dock.model.records()]
        window.close()
        await core.stop()
        return messages

    messages = run_qt(scenario)
    assert any(m.startswith("receiver listening on http://127.0.0.1:") for m in messages)
    assert any(m.startswith("no webhook passphrase was set") for m in messages)  # said once, at first start
    assert any(m.startswith("Station ") and " started " in m for m in messages)


def test_log_dock_is_capped(qtbot):
    from station.ui import log_dock

    dock = log_dock.LogDock()
    qtbot.addWidget(dock)
    for i in range(log_dock.CAP + 300):
        logging.getLogger("station.flood").info("line %d", i)
    dock.pull()
    assert dock.model.rowCount() == log_dock.CAP
    assert dock.model.record(0).message == f"line {log_dock.CAP + 299}"
    dock.detach()


def test_every_form_loads(qtbot):
    names = all_forms()
    assert "about" in names
    for name in names:
        widget = load_form(name)
        qtbot.addWidget(widget)
        assert widget.objectName()


def test_about_dialog_shows_where_things_are(qtbot, station):
    from PySide6.QtWidgets import QLabel

    from station.ui.about import show_about

    dialog = show_about(dock_context(station).info)
    qtbot.addWidget(dialog)
    assert isinstance(dialog, QDialog)
    assert dialog.findChild(QLabel, "dataDir").text() == str(station.options.data_dir)
    assert dialog.findChild(QLabel, "keyring").text() == "keyrings.alt.file.PlaintextKeyring"
    dialog.close()


def test_import_config_from_the_window_reports_errors_and_applies_good_files(qtbot, station, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    window = main_window(station)
    qtbot.addWidget(window)
    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    bad.write_text('{"settings": {"webhook": {"delay_s": -1}}}')
    good.write_text('{"strategies": {"S": {"tickers": {"ES": {"ports": [5001]}}}}}')

    async def scenario():
        return await window.import_config(bad), await window.import_config(good)

    assert run_qt(scenario) == (False, True)
    assert "settings.webhook.delay_s" in warnings[0]
    assert station.config.load().strategy("S").ticker("ES").ports == (5001,)


def test_docks_have_stable_object_names(qtbot, station):
    window = main_window(station)
    qtbot.addWidget(window)
    for name, dock in window.docks.items():
        assert isinstance(dock, QDockWidget) and dock.objectName() == name
