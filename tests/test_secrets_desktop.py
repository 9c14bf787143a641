"""The OS keyring as a trader's desktop has it: no backend chosen, keyrings.alt installed beside it."""

from __future__ import annotations

import subprocess

import keyring
import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail
from keyrings.alt.file import PlaintextKeyring

from support.launch import free_port, station_cmd, wait_http
from station.secrets import KeyringUnavailable, SecretStore, secure_member


class OsKeyring(KeyringBackend):
    """Stands for Windows Credential Manager or the macOS Keychain (priority 5 there too)."""

    priority = 5

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.values.get((service, username))

    def set_password(self, service, username, password):
        self.values[(service, username)] = password

    def delete_password(self, service, username):
        del self.values[(service, username)]


class Chain(chainer.ChainerBackend):
    """keyring's chain over given members (its own reads them from every installed backend)."""

    def __init__(self, members) -> None:
        super().__init__()
        self._members = members

    @property
    def backends(self):
        return self._members


def _detected(monkeypatch, backend) -> None:
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setattr(keyring.core, "load_config", lambda: None)
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)


def test_the_os_keyring_in_a_chain_with_plain_text_is_used_on_its_own(monkeypatch):
    os_keyring, plain = OsKeyring(), PlaintextKeyring()
    _detected(monkeypatch, Chain([os_keyring, plain]))
    store = SecretStore.system()
    assert store.backend is os_keyring  # not the chain: a read never falls through to the file
    store.set("api-token", "tok-123")
    assert os_keyring.values[("station", "api-token")] == "tok-123"


def test_a_chain_of_plain_text_and_fail_only_is_refused_with_the_fix(monkeypatch):
    _detected(monkeypatch, Chain([PlaintextKeyring(), fail.Keyring()]))
    with pytest.raises(KeyringUnavailable, match="PYTHON_KEYRING_BACKEND"):
        SecretStore.system()


def test_the_highest_priority_secure_member_is_chosen():
    low, high = OsKeyring(), OsKeyring()
    high.priority = 9
    assert secure_member(Chain([PlaintextKeyring(), low, high])) is high
    assert secure_member(PlaintextKeyring()) is None and secure_member(fail.Keyring()) is None


# ---- a real Secret Service (gnome-keyring on a private D-Bus session) --------------------------

def run_cli(*args: str, env: dict, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """`station ARGS` with exactly `env`: nothing of this process's keyring choice leaks in."""
    return subprocess.run(station_cmd(*args), capture_output=True, text=True, input=input, timeout=timeout, env=env)


def test_secret_set_and_delete_use_the_secret_service_with_no_backend_chosen(secret_service):
    env = secret_service.env
    assert "PYTHON_KEYRING_BACKEND" not in env
    result = run_cli("secret", "set", "webhook-passphrase", env=env, input="desk passphrase\n")
    assert result.returncode == 0, result.stderr
    assert secret_service.read("station", "webhook-passphrase") == "desk passphrase"
    result = run_cli("secret", "delete", "webhook-passphrase", env=env)
    assert result.returncode == 0, result.stderr
    assert secret_service.read("station", "webhook-passphrase") is None


def test_headless_starts_on_the_secret_service_and_keeps_its_passphrase_there(secret_service, tmp_path):
    port = free_port()
    proc = subprocess.Popen(station_cmd("--headless", "--data-dir", str(tmp_path / "d"), "--port", str(port)),
                            env=secret_service.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", 20)
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert proc.returncode == 0, output
    created = secret_service.read("station", "webhook-passphrase")
    assert created and created in output  # the random passphrase made at first start, shown once
    assert secret_service.read("station", "api-token")


def test_the_window_starts_on_the_secret_service(secret_service, tmp_path):
    env = {**secret_service.env, "QT_QPA_PLATFORM": "offscreen"}
    result = run_cli("--smoke", "--data-dir", str(tmp_path / "d"), "--port", str(free_port()), env=env, timeout=90)
    assert result.returncode == 0, result.stderr
    assert "first paint" in result.stdout
    assert secret_service.read("station", "webhook-passphrase")


def test_station_version_check_names_the_secret_service(secret_service):
    result = run_cli("--self-check", env=secret_service.env, timeout=60)
    assert "SecretService" in result.stdout + result.stderr, result.stdout + result.stderr
