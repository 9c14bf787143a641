"""The setup dialogs grabbed to PNG on a 1366×768 laptop screen and a 1920×1080 one (shots_setup_dialogs.py).

Each size runs in a process of its own, Qt's offscreen screen set to that size; every
dialog must fit its screen. `STATION_SHOTS=DIR` keeps the PNGs (to look at them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from support.paths import REPO

NAMES = ["window-alerts-refused", "accounts-station", "accounts-databento", "accounts-schwab", "accounts-tastytrade",
         "accounts-ib", "destination-ninjatrader-ati", "destination-ib", "destination-schwab", "destination-tastytrade",
         "destination-paper", "tradingview-setup", "user-guide"]


@pytest.mark.slow
@pytest.mark.timeout(360)
@pytest.mark.parametrize("width,height", [(1366, 768), (1920, 1080)])
def test_setup_dialogs_fit_and_are_grabbed(width, height, tmp_path):
    shots = Path(os.environ.get("STATION_SHOTS") or tmp_path) / f"{width}x{height}"
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "screen", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={screen}", "STATION_SHOTS": str(shots)}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout", "240",
                             str(REPO / "tests" / "ui" / "shots_setup_dialogs.py")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    for name in NAMES:
        image = QImage(str(shots / f"{name}.png"))
        assert not image.isNull(), name
        assert image.width() <= width and image.height() <= height, (name, image.size())
        assert image.width() >= 400 and image.height() >= 200, (name, image.size())
