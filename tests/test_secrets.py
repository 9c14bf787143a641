import logging

import keyring
import pytest
from keyring.backends import fail
from keyrings.alt.file import PlaintextKeyring

from station.logs import SecretMask, add_handler
from station import secrets as secret_store
from station.secrets import KeyringUnavailable, Secret, SecretStore


def test_set_get_delete_in_a_real_file_backend(secrets):
    assert secrets.get("api-token") is None
    secrets.set("api-token", "tok-123456")
    assert secrets.get("api-token").reveal() == "tok-123456"
    assert secrets.delete("api-token") is True
    assert secrets.get("api-token") is None
    assert secrets.delete("api-token") is False


def test_ensure_creates_a_random_secret_once(secrets):
    first, created = secrets.ensure("webhook-passphrase")
    again, created_again = secrets.ensure("webhook-passphrase")
    assert created and not created_again
    assert first == again and len(first.reveal()) >= 24


def test_a_secret_never_shows_in_repr_str_or_logs(secrets, caplog):
    secret = secrets.set("databento-key", "db-SUPERSECRET-1")
    assert "SUPERSECRET" not in repr(secret) + str(secret) + repr([secret]) + f"{secret}"
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = add_handler(Keep())
    try:
        logging.getLogger("station.test").warning("leaked %s", secret.reveal())
    finally:
        logging.getLogger("station").removeHandler(handler)
    assert records == ["leaked ***"]


def test_matches_compares_in_constant_time():
    secret = Secret("correct horse")
    assert secret.matches("correct horse")
    assert not secret.matches("correct hors") and not secret.matches(None) and not secret.matches("")
    assert not secret.matches("\udcff\udcfe")  # a header's undecodable bytes: not the secret, and no error


def test_invalid_names_are_refused(secrets):
    with pytest.raises(ValueError, match="invalid secret name"):
        secrets.get("Bad Name!")


def _no_explicit_choice(monkeypatch, backend):
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setattr(keyring.core, "load_config", lambda: None)
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)


def test_a_silently_chosen_plaintext_backend_is_refused(monkeypatch):
    _no_explicit_choice(monkeypatch, PlaintextKeyring())
    with pytest.raises(KeyringUnavailable, match="PYTHON_KEYRING_BACKEND"):
        SecretStore.system()


def test_no_backend_at_all_names_the_fix(monkeypatch):
    _no_explicit_choice(monkeypatch, fail.Keyring())
    with pytest.raises(KeyringUnavailable, match="Secret Service"):
        SecretStore.system()


def test_an_explicitly_chosen_file_backend_is_used(keyring_env):
    store = SecretStore.system()
    assert store.description == "keyrings.alt.file.PlaintextKeyring"


def test_an_explicit_fail_backend_errors_clearly(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with pytest.raises(KeyringUnavailable, match="failed"):
        SecretStore.system()


def test_memory_backend_holds_secrets_for_the_run():
    store = SecretStore(secret_store.MemoryBackend())
    store.set("webhook-passphrase", "abcd1234")
    assert store.get("webhook-passphrase").reveal() == "abcd1234"
    assert store.delete("webhook-passphrase") and store.get("webhook-passphrase") is None
    SecretMask._secrets.discard("abcd1234")


def test_reads_never_miss_a_secret_while_another_thread_writes(secrets):
    """keyrings.alt rewrites its whole file on every set; unserialised, a racing read finds nothing."""
    import threading

    secrets.set("tastytrade-client-secret", "client-secret-value")
    stop, misses = threading.Event(), []

    def writer():
        n = 0
        while not stop.is_set():
            secrets.set("api-token", f"token-{n:06d}")
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(300):
            if secrets.get("tastytrade-client-secret") is None:
                misses.append(1)
    finally:
        stop.set()
        thread.join()
    assert misses == []
