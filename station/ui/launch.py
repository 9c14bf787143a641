"""Starting the desktop app: one QApplication, one qasync loop running Qt, aiohttp and the core.

The one place in ui/ that knows `Station`: it builds the `DockContext` the window and its
docks get (the bridge on Station's bus, the query interfaces, the config edits, this run's facts).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from station.app import Options, Station, serve
from station.secrets import SecretStore

if TYPE_CHECKING:
    from station.ui.context import DockContext
    from station.ui.log_dock import LogBuffer
    from station.ui.main_window import MainWindow

log = logging.getLogger("station.ui")

NO_DISPLAY = ("no display to open a window on: set QT_QPA_PLATFORM=offscreen (or run under Xvfb), "
              "or use station --headless")


class NoDisplay(RuntimeError):
    """The window cannot be shown on this machine."""


def check_display() -> None:
    """Refuse early, with the fix, where Qt would otherwise abort (Linux with no display)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        raise NoDisplay(NO_DISPLAY)


def show_error(message: str) -> None:
    """A modal error dialog, for an app started without a console to print the error to."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841  (the dialog needs it)
    QMessageBox.critical(None, "Station", message)


def run_gui(options: Options, secrets: SecretStore, *, smoke: bool = False) -> int:
    """Run the window until it is closed; with `smoke`, close it after the first paint."""
    started = time.perf_counter()
    check_display()
    import qasync
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from station.paths import resources_dir
    from station.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("Station")
    app.setApplicationName("Station")
    app.setDesktopFileName("station")  # Wayland finds the menu entry (name, icon) by this id
    app.setQuitOnLastWindowClosed(False)  # the loop ends when our main coroutine does
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "station.svg")))
    apply_theme(app)
    from station.ui.gc_guard import MainThreadGarbageCollector

    collector = MainThreadGarbageCollector(parent=app)
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            return runner.run(_main(options, secrets, smoke=smoke, started=started))
    finally:
        collector.stop()


async def _main(options: Options, secrets: SecretStore, *, smoke: bool, started: float) -> int:
    from station.logs import add_handler
    from station.ui.log_dock import LogBuffer

    log_buffer = add_handler(LogBuffer())  # the Log dock shows what start-up said too

    async def session(station: Station, stop_requested: asyncio.Event) -> None:
        await window_session(station, stop_requested, log_buffer,
                             on_window=(lambda window: _close_after_first_paint(window, started)) if smoke else None)

    return await serve(options, secrets, session)


async def window_session(station: Station, stop_requested: asyncio.Event, log_buffer: "LogBuffer | None" = None,
                         on_window=None) -> None:
    """The window until the trader closes it (Ctrl+Q asks first while positions are open) or a signal stops
    Station (SIGINT/SIGTERM: closed at once, no question: nobody may be there to answer)."""
    window = main_window(station, log_buffer)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    if on_window is not None:
        on_window(window)
    window.show()
    waiting = asyncio.ensure_future(stop_requested.wait())
    await asyncio.wait([waiting, asyncio.ensure_future(closed.wait())], return_when=asyncio.FIRST_COMPLETED)
    if waiting.done() and not closed.is_set():
        window.close_without_asking()
        await closed.wait()
    waiting.cancel()


def dock_context(station: Station, log_buffer: "LogBuffer | None" = None) -> "DockContext":
    """What the window and its docks get of `station`: reads, edits, events and commands, facts."""
    from PySide6.QtCore import QSettings

    from station.ui.bridge import UiBridge
    from station.ui.config_edits import ConfigEdits
    from station.ui.context import DockContext, StationInfo

    store, bridge = station.store, UiBridge(station.bus)
    edits = ConfigEdits(station.config, station.ib_contracts, station.config, bridge.publish,
                        announced=lambda: station.watcher.revision)
    info = StationInfo(receiver_url=station.receiver.url, receiver_port=station.receiver.port,
                       data_dir=Path(station.options.data_dir), demo=station.options.demo,
                       keyring=station.secrets.description, passphrase_created=station.webhook.passphrase_created)

    def write_report(out_dir, since):
        from station.analysis.export import run_analysis  # pandas: imported when a report is asked for

        return run_analysis(store, out_dir, since=since)

    settings = QSettings(str(info.data_dir / "ui.ini"), QSettings.IniFormat)
    return DockContext(bridge=bridge, queries=station.queries(), edits=edits, secrets=station.secrets,
                       settings=settings, info=info, write_report=write_report, log_buffer=log_buffer)


def main_window(station: Station, log_buffer: "LogBuffer | None" = None) -> "MainWindow":
    """The main window over `station` (started, or not for a look at an empty one)."""
    from station.ui.main_window import MainWindow

    return MainWindow(dock_context(station, log_buffer))


def _close_after_first_paint(window, started: float) -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, watched, event) -> bool:  # noqa: N802
            if event.type() == QEvent.Paint:
                watched.removeEventFilter(self)
                print(f"first paint after {time.perf_counter() - started:.3f} s", flush=True)
                QTimer.singleShot(0, window.close_without_asking)
            return False

    window._first_paint = FirstPaint(window)
    window.statusBar().installEventFilter(window._first_paint)
