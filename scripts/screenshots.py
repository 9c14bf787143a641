"""Screenshots of the demo window at common screen sizes, for looking at and for the README.

    python scripts/screenshots.py OUT_DIR [--sizes 1366x768,1920x1080] [--small]

Runs `station --demo`'s core in a temporary data folder on an off-screen display of each
size, trades a little (two webhook alerts, a manual Buy), lets the replay run, points the
crosshair at a bar and grabs the window: `OUT_DIR/window-<W>x<H>.png`, then with the
Positions & PnL and Strategies tabs in front (`-positions.png`). `--small` also writes a
copy at most 1366 pixels wide, compressed (`-small.png`), fit for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

SMALL_WIDTH = 1366


def _screen_config(width: int, height: int, folder: Path) -> Path:
    """An offscreen-platform config file describing one screen of the given size."""
    path = folder / f"screen-{width}x{height}.json"
    path.write_text(json.dumps({"screens": [{"name": "screen", "x": 0, "y": 0, "width": width, "height": height,
                                             "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    return path


async def _shoot(out: Path, width: int, height: int, small: bool) -> Path:
    from keyrings.alt.file import PlaintextKeyring
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QImage

    from station.app import Options, Station
    from station.domain.commands import ManualOrder
    from station.domain.enums import Side
    from station.secrets import SecretStore
    from station.ui.launch import main_window

    work = Path(tempfile.mkdtemp(prefix="station-shots-"))
    backend = PlaintextKeyring()
    backend.file_path = str(work / "keyring.cfg")
    station = Station(Options(data_dir=work / "data", port=0, demo=True), SecretStore(backend))
    await station.start()
    window = main_window(station)
    window.setGeometry(0, 0, width, height)
    window.show()
    await asyncio.sleep(1.0)  # the replay fast-forwards the night; the chart loads
    passphrase = station.webhook.intake.passphrase.reveal()
    import aiohttp

    async with aiohttp.ClientSession() as http:
        for ticker, action in (("ES", "buy"), ("NQ", "sell")):
            body = {"passphrase": passphrase, "ticker": ticker, "action": action, "qty": 1}
            async with http.post(f"{station.receiver.url}/webhook", json=body) as answer:
                await answer.read()
    station.bus.publish(ManualOrder("shots-1", "Demo", "ES", Side.BUY, None))
    await asyncio.sleep(4.0)  # fills, marks, a few bars of replay
    chart = window.dock_widget("ChartDock")
    view = chart.view
    rect = view.price.sceneBoundingRect()
    view.hover(QPointF(rect.left() + rect.width() * 0.6, rect.top() + rect.height() * 0.4))
    await asyncio.sleep(0.3)
    path = out / f"window-{width}x{height}.png"
    pixmap = window.grab()
    pixmap.save(str(path))
    if small:  # for the README: at most 1366 pixels wide, compressed hard
        shown = pixmap if width <= SMALL_WIDTH else pixmap.scaledToWidth(SMALL_WIDTH, Qt.SmoothTransformation)
        shown.toImage().convertToFormat(QImage.Format_RGB888).save(str(out / f"window-{width}x{height}-small.png"),
                                                                   "PNG", 0)
    for name in ("PositionsDock", "StrategiesDock"):  # the tabs behind: positions and PnL, the strategies
        window.docks[name].raise_()
    await asyncio.sleep(0.5)
    window.grab().save(str(out / f"window-{width}x{height}-positions.png"))
    window.close_without_asking()
    await station.stop()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sizes", default="1366x768,1920x1080")
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
    if len(sizes) > 1:  # one screen size per process: the offscreen platform reads its config once
        for width, height in sizes:
            command = [sys.executable, __file__, str(args.out), "--sizes", f"{width}x{height}"]
            if args.small:
                command.append("--small")
            code = os.spawnv(os.P_WAIT, sys.executable, command)
            if code:
                return code
        return 0
    (width, height), = sizes
    config = _screen_config(width, height, Path(tempfile.mkdtemp(prefix="station-screen-")))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    import qasync
    from PySide6.QtWidgets import QApplication

    from station.ui.theme import apply_theme

    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app)
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        print(runner.run(_shoot(args.out, width, height, args.small)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
