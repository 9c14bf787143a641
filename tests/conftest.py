"""Shared fixtures: offscreen Qt, a keyring in a temp dir, data dirs, free ports, a headless Station."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from support.launch import KEYRING_BACKEND, HeadlessStation  # noqa: E402  (after the Qt platform is set)

pytest_plugins = ["support.secret_service"]  # the `secret_service` fixture: a real Secret Service


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
    # setup_logging (a CLI test run in-process) also quiets these and stops them propagating: put them back,
    # or caplog never sees their records in the tests that follow
    libraries = {name: (lib, lib.level, lib.propagate, list(lib.handlers)) for name in
                 ("aiohttp", "ib_async", "databento", "qasync") for lib in [logging.getLogger(name)]}
    yield
    # a CLI test run in-process points a console handler at pytest's captured stderr, which
    # closes after the test: later records would hit a closed file ("Logging error")
    for handler in set(logger.handlers) - set(handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = propagate
    for lib, level, lib_propagate, lib_handlers in libraries.values():
        for handler in set(lib.handlers) - set(lib_handlers):
            lib.removeHandler(handler)
        lib.setLevel(level)
        lib.propagate = lib_propagate


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

