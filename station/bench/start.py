"""`station bench start`: cold start of this install, median of 5 fresh starts each.

- window: spawn `station --demo --smoke` off screen (fresh data folder and keyring file)
  until it prints "first paint", i.e. the main window has been drawn once;
- /health: spawn `station --headless` until `GET /health` answers 200, then SIGTERM and
  the time until the process has exited (the store closed, nothing lost).

One unmeasured start of each kind comes first, so bytecode is cached as in an installed
app (the measured starts are cold for the process, warm for the disk cache).

Baseline, in the same run: the bare interpreter (`python -c pass`), what any Python
program pays before its first line; and importing PySide6's widgets, what any Qt app pays.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from station.bench._machine import load_average

RUNS = 5


def _env(folder: str) -> dict[str, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": folder,
           "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed app has its bytecode cached
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def time_to_first_paint(command: list[str]) -> float:
    """Seconds from spawning `command ... --demo --smoke` until it reports its first paint."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        process = subprocess.Popen([*command, "--demo", "--smoke", "--data-dir", folder, "--port", "0"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env(folder), text=True)
        seconds = None
        for line in process.stdout:
            if line.startswith("first paint"):
                seconds = time.perf_counter() - started
                break
        process.stdout.close()
        if process.wait(30) != 0 or seconds is None:
            raise RuntimeError(f"{' '.join(command)} --demo --smoke did not report a first paint")
        return seconds


def time_to_health_and_stop(command: list[str], timeout: float = 10.0) -> tuple[float, float]:
    """Seconds from spawn until /health answers, and from SIGTERM until the process has exited."""
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        started = time.perf_counter()
        process = subprocess.Popen([*command, "--headless", "--data-dir", folder, "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(folder))
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.perf_counter() - started > timeout:
                    raise RuntimeError(f"{' '.join(command)} --headless did not serve /health")
                time.sleep(0.005)
            ready = time.perf_counter() - started
            process.send_signal(signal.SIGTERM)
            stopping = time.perf_counter()
            if process.wait(timeout) != 0:
                raise RuntimeError(f"{' '.join(command)} --headless did not stop cleanly on SIGTERM")
            return ready, time.perf_counter() - stopping
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _time_command(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=_env(tempfile.gettempdir()))
    return time.perf_counter() - started


def _summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f} s ({', '.join(f'{v:.3f}' for v in values)})"


def run(options) -> dict:
    station = [sys.executable, "-m", "station"]
    bare = [_time_command([sys.executable, "-c", "pass"]) for _ in range(RUNS)]
    qt = [_time_command([sys.executable, "-c", "import PySide6.QtWidgets"]) for _ in range(RUNS)]
    paint = [time_to_first_paint(station) for _ in range(RUNS + 1)][1:]
    health, stop = zip(*[time_to_health_and_stop(station) for _ in range(RUNS + 1)][1:])
    return {
        "description": __doc__.split("\n\n")[0],
        "runs": RUNS,
        "machine load": load_average(),
        "baseline: bare interpreter": _summary(bare),
        "baseline: import PySide6.QtWidgets": _summary(qt),
        "start to first paint (--demo)": _summary(paint),
        "start to /health (--headless)": _summary(list(health)),
        "SIGTERM to exit (--headless)": _summary(list(stop)),
        "first paint / Qt import": round(statistics.median(paint) / statistics.median(qt), 2),
        "station": str(Path(sys.modules["station"].__file__).parent),
    }
