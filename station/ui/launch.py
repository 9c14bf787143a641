"""Starting the desktop app: one QApplication, one qasync loop running Qt, aiohttp and the core."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time

from station.app import Options, Station, serve
from station.secrets import SecretStore

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

    async def window_session(station: Station, stop_requested: asyncio.Event) -> None:
        from station.ui.main_window import MainWindow

        window = MainWindow(station, log_buffer)
        closed = asyncio.Event()
        window.closed.connect(closed.set)
        if smoke:
            _close_after_first_paint(window, started)
        window.show()
        waiting = asyncio.ensure_future(stop_requested.wait())
        await asyncio.wait([waiting, asyncio.ensure_future(closed.wait())], return_when=asyncio.FIRST_COMPLETED)
        if waiting.done() and not closed.is_set():  # SIGINT/SIGTERM: close as the user would
            window.close()
            await closed.wait()
        waiting.cancel()

    return await serve(options, secrets, window_session)


def _close_after_first_paint(window, started: float) -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, watched, event) -> bool:  # noqa: N802
            if event.type() == QEvent.Paint:
                watched.removeEventFilter(self)
                print(f"first paint after {time.perf_counter() - started:.3f} s", flush=True)
                QTimer.singleShot(0, window.close)
            return False

    window._first_paint = FirstPaint(window)
    window.statusBar().installEventFilter(window._first_paint)
