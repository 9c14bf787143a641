"""Shared fixtures: offscreen Qt, a keyring in a temp dir, data dirs, free ports, a headless Station."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

KEYRING_BACKEND = "keyrings.alt.file.PlaintextKeyring"


@pytest.fixture(scope="session", autouse=True)
def collect_on_the_main_thread():
    """As the app does (station/ui/gc_guard.py): no automatic GC, which could free a QObject
    from a worker thread and crash Qt later; each test's garbage is collected here instead."""
    import gc

    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def collect_after_each_test():
    import gc

    yield
    gc.collect()


@pytest.fixture(autouse=True)
def station_logging():
    """Station's loggers pass every level, as `setup_logging` makes them in the app."""
    import logging

    logger = logging.getLogger("station")
    handlers, propagate = list(logger.handlers), logger.propagate
    logger.setLevel(logging.DEBUG)
    yield
    # a CLI test run in-process points a console handler at pytest's captured stderr, which
    # closes after the test: later records would hit a closed file ("Logging error")
    for handler in set(logger.handlers) - set(handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = propagate


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def keyring_env(tmp_path, monkeypatch) -> dict[str, str]:
    """A real file keyring in a temp dir, chosen explicitly (for this process and subprocesses)."""
    env = {"PYTHON_KEYRING_BACKEND": KEYRING_BACKEND, "XDG_DATA_HOME": str(tmp_path / "xdg-data")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def secrets(tmp_path):
    """A SecretStore over a real keyrings.alt file backend in a temp dir."""
    from keyrings.alt.file import PlaintextKeyring

    from station.secrets import SecretStore

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")
    return SecretStore(backend)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def station_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "station", *args]


def run_cli(*args: str, env: dict | None = None, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `station ARGS` as a subprocess and capture its output."""
    return subprocess.run(station_cmd(*args), capture_output=True, text=True, input=input, timeout=timeout,
                          env={**os.environ, **(env or {})})


def wait_http(url: str, timeout: float = 10.0) -> float:
    """Seconds until `url` answers 200; raises on timeout."""
    import urllib.request

    start = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=0.5) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except OSError:
            pass
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.02)


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


@pytest.fixture
def headless(data_dir, keyring_env):
    """Start a headless Station; stopped (killed if need be) after the test."""
    started: list[HeadlessStation] = []

    def start(*extra: str) -> HeadlessStation:
        station = HeadlessStation(data_dir, keyring_env, *extra)
        started.append(station)
        station.wait_ready()
        return station

    yield start
    for station in started:
        station.kill()
        if station.proc.stdout:
            station.proc.stdout.close()
        if station.proc.stderr:
            station.proc.stderr.close()


def run_qt(coro_fn, *args, timeout: float = 30.0):
    """Run `coro_fn(*args)` on a qasync loop over the test QApplication (as the app does)."""
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)  # as the app: the loop ends with the coroutine, not a window
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(asyncio.wait_for(coro_fn(*args), timeout))
