"""Running Station in tests: free loopback ports, the CLI as a subprocess, a headless Station, a qasync loop."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from support.wait import wait_until

KEYRING_BACKEND = "keyrings.alt.file.PlaintextKeyring"

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def station_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "station", *args]


def run_cli(*args: str, env: dict | None = None, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `station ARGS` as a subprocess and capture its output."""
    return subprocess.run(station_cmd(*args), capture_output=True, text=True, input=input, timeout=timeout,
                          env={**os.environ, **(env or {})})


def wait_http(url: str, timeout: float = 10.0) -> float:
    """Seconds until `url` answers 200 (`support.wait.wait_until`); raises on timeout."""
    import urllib.request

    def answers() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=0.5) as response:
                return response.status == 200
        except OSError:
            return False

    start = time.monotonic()
    wait_until(answers, timeout, interval=0.02, what=f"{url} answering 200")
    return time.monotonic() - start


class HeadlessStation:
    """A `station --headless` subprocess on a free loopback port."""

    def __init__(self, data_dir: Path, env: dict[str, str], *extra: str) -> None:
        self.data_dir, self.port = data_dir, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            station_cmd("--headless", "--data-dir", str(data_dir), "--port", str(self.port), *extra),
            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def wait_ready(self, timeout: float = 10.0) -> float:
        wait_http(f"{self.url}/health", timeout)
        return time.monotonic() - self.started

    def stop(self, signum: int = 15, timeout: float = 10.0) -> tuple[int, float]:
        start = time.monotonic()
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout)
        return code, time.monotonic() - start

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def run_qt(coro_fn, *args, timeout: float = 30.0):
    """Run `coro_fn(*args)` on a qasync loop over the test QApplication (as the app does)."""
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)  # as the app: the loop ends with the coroutine, not a window
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(asyncio.wait_for(coro_fn(*args), timeout))


def run_with_window(secrets, data_dir, body, config: dict, *, prepare=None, before=None, timeout: float = 30.0):
    """Run `body(station, window)` on the qasync loop with a started Station (`config` imported) and its window.

    `prepare(station)` runs before Station starts, `before(station)` after it started and before the window
    opens. The window closes without its quit question (a test may leave positions open), then Station stops.
    """
    from station.app import Options, Station
    from station.ui.launch import main_window

    async def scenario():
        station = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        if prepare is not None:
            prepare(station)
        station.config.import_document(config)
        await station.start()
        window = None
        try:
            if before is not None:
                await before(station)
            window = main_window(station)
            window.show()
            return await body(station, window)
        finally:
            if window is not None:
                window.close_without_asking()
            await station.stop()

    return run_qt(scenario, timeout=timeout)
