"""A real Secret Service for tests: a private D-Bus session bus with gnome-keyring unlocked on it.

This is what a Linux desktop has: keyring's detection then finds the Secret Service
and, since Station depends on keyrings.alt, the plain-text file backend beside it.
Subprocesses started with `env` (and no PYTHON_KEYRING_BACKEND) see exactly that.
`.ci/run` installs the Debian packages `dbus` and `gnome-keyring`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support.wait import wait_until

PACKAGES = "dbus gnome-keyring"


class SecretService:
    """dbus-daemon + gnome-keyring-daemon (secrets component) under a temp HOME."""

    def __init__(self, home: Path) -> None:
        self.home = home
        runtime = home / "run"
        runtime.mkdir(parents=True, mode=0o700)
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS")}
        self.env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
                        XDG_RUNTIME_DIR=str(runtime))
        self._bus_pid: int | None = None
        self._keyring: subprocess.Popen | None = None

    def start(self) -> "SecretService":
        started = subprocess.run(["dbus-daemon", "--session", "--fork", "--nosyslog", "--print-address=1",
                                  "--print-pid=1"], capture_output=True, text=True, env=self.env, timeout=10,
                                 check=True)
        address, pid = started.stdout.split()
        self._bus_pid = int(pid)
        self.env["DBUS_SESSION_BUS_ADDRESS"] = address
        # --unlock reads the login keyring's password from stdin and creates it unlocked (an empty
        # password leaves no default collection, so nothing could be stored)
        self._keyring = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, env=self.env)
        self._keyring.stdin.write(b"station-test")
        self._keyring.stdin.close()
        self._wait_usable()
        return self

    def _wait_usable(self, timeout: float = 10.0) -> None:
        wait_until(self._probe_write, timeout, interval=0.05, what="gnome-keyring usable on the test session bus")

    def _probe_write(self) -> bool:
        code = ("import keyring.backends.SecretService as s; k = s.Keyring(); "
                "k.set_password('station-probe', 'probe', 'ok')")
        return subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True,
                              timeout=20).returncode == 0

    def read(self, service: str, name: str) -> str | None:
        """What the Secret Service itself holds for (service, name), read in a subprocess."""
        code = ("import sys, keyring.backends.SecretService as s; "
                "v = s.Keyring().get_password(sys.argv[1], sys.argv[2]); print('' if v is None else 'V' + v)")
        result = subprocess.run([sys.executable, "-c", code, service, name], env=self.env, capture_output=True,
                                text=True, timeout=20)
        out = result.stdout.strip()
        return out[1:] if result.returncode == 0 and out.startswith("V") else None

    def stop(self) -> None:
        if self._keyring is not None and self._keyring.poll() is None:
            self._keyring.terminate()
            try:
                self._keyring.wait(5)
            except subprocess.TimeoutExpired:
                self._keyring.kill()
        if self._bus_pid is not None:
            try:
                os.kill(self._bus_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


@pytest.fixture
def secret_service(tmp_path):
    """A usable Secret Service (as on a Linux desktop), for subprocesses run with `.env`."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the Secret Service is the Linux desktop's keyring")
    missing = [tool for tool in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(tool) is None]
    assert not missing, f"{', '.join(missing)} not found: install the Debian packages {PACKAGES} (.ci/run does)"
    service = SecretService(tmp_path / "desktop-home").start()
    yield service
    service.stop()
