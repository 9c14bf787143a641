"""Secrets (broker keys, tokens, the webhook passphrase) in the OS keyring, and nowhere else.

A keyring backend chosen explicitly (`PYTHON_KEYRING_BACKEND` or keyring's own
config file) is used as chosen. Otherwise the OS keyring is used: keyring's
detection returns a chain of every viable backend (e.g. [Secret Service (5),
keyrings.alt's plain-text file (0.5)] on a Linux desktop, the same with Windows
Credential Manager or the macOS Keychain), whose writes go to its first member;
we take the highest-priority member that is neither plain text nor keyring's
"fail" backend, on its own, so a read never falls through to a plain-text file.
Only when no such member exists does `KeyringUnavailable` say how to fix it: we
never fall back to plain text silently.
"""

from __future__ import annotations

import re
import secrets as random_source
import threading
from datetime import datetime
from typing import Callable

from station.domain.credentials import BY_NAME, CREDENTIALS
from station.domain.timeutil import UTC, utc_now
from station.logs import SecretMask

SERVICE = "station"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
KNOWN_NAMES = tuple(credential.name for credential in CREDENTIALS)
ISSUED = ".issued"  # beside a secret that expires (a Schwab refresh token): when it was stored, ISO time

FIX = ("no usable OS keyring: install and unlock a Secret Service (e.g. gnome-keyring) or, "
       "on a headless server, choose a backend explicitly, e.g. "
       "PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring")


class KeyringUnavailable(RuntimeError):
    """No secure keyring backend is usable; the message names the fix."""


class Secret:
    """A secret value whose repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        SecretMask.register(value)

    def reveal(self) -> str:
        """The plain value, for the one place that must send or compare it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and random_source.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(Secret)

    def matches(self, candidate: str | None) -> bool:
        """Constant-time comparison with an offered value."""
        if candidate is None:
            return False
        # surrogatepass: a header's undecodable bytes arrive as lone surrogates, and are simply not the secret
        offered = str(candidate).encode("utf-8", "surrogatepass")
        return random_source.compare_digest(self._value.encode("utf-8"), offered)


def check_name(name: str) -> str:
    """`name` if it is a valid secret name, else ValueError."""
    if not NAME_PATTERN.match(name or ""):
        raise ValueError(f"invalid secret name {name!r}: use lower-case letters, digits and '-', "
                         f"e.g. {', '.join(KNOWN_NAMES[:3])}")
    return name


def _dated(name: str) -> bool:
    credential = BY_NAME.get(name)
    return credential is not None and credential.lifetime is not None


def _describe(backend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _is_secure(backend) -> bool:
    """A real OS keyring: not keyring's "fail" backend, not a chain, not keyrings.alt's files."""
    from keyring.backends import chainer, fail

    if isinstance(backend, (fail.Keyring, chainer.ChainerBackend)):
        return False
    return not type(backend).__module__.startswith("keyrings.alt")


def secure_member(backend):
    """The backend itself if secure, else a chain's highest-priority secure member, else None."""
    from keyring.backends import chainer

    members = list(backend.backends) if isinstance(backend, chainer.ChainerBackend) else [backend]
    secure = [member for member in members if _is_secure(member)]
    return max(secure, key=lambda member: member.priority, default=None)


def system_backend():
    """The keyring backend to use, or KeyringUnavailable naming the fix."""
    import keyring
    import keyring.core

    try:
        explicit = keyring.core.load_env() or keyring.core.load_config()
    except Exception as exc:  # a backend named explicitly but not importable
        raise KeyringUnavailable(f"the keyring backend chosen cannot be loaded ({exc}); {FIX}") from None
    if explicit is not None:
        return explicit
    backend = secure_member(keyring.get_keyring())
    if backend is None:
        raise KeyringUnavailable(FIX)
    return backend


class SecretStore:
    """Reads and writes named secrets in one keyring backend (service `station`)."""

    def __init__(self, backend) -> None:
        self.backend = backend
        # file backends (keyrings.alt) rewrite their file on every set: a read racing a write
        # from another thread sees no value, so every call goes through one lock
        self._lock = threading.RLock()

    @classmethod
    def system(cls) -> "SecretStore":
        """The store over the OS keyring, checked usable now (not at the first trade)."""
        store = cls(system_backend())
        store.get("webhook-passphrase")
        return store

    @property
    def description(self) -> str:
        """Which backend holds the secrets (shown in Settings and `station --version`)."""
        return _describe(self.backend)

    def get(self, name: str) -> Secret | None:
        value = self._call(self.backend.get_password, SERVICE, check_name(name))
        return None if value is None else Secret(value)

    def set(self, name: str, value: str, *, issued_at: datetime | None = None) -> Secret:
        """Store `value` as `name`; a secret that expires also gets its issue time (`issued_at`, default now)."""
        if not value:
            raise ValueError(f"secret {name} is empty")
        self._call(self.backend.set_password, SERVICE, check_name(name), value)
        if _dated(name):
            stamp = (issued_at or utc_now()).astimezone(UTC).isoformat()
            self._call(self.backend.set_password, SERVICE, name + ISSUED, stamp)
        return Secret(value)

    def issued_at(self, name: str) -> datetime | None:
        """When the expiring secret `name` was issued (stored), or None if unknown or not set."""
        stamp = self._call(self.backend.get_password, SERVICE, check_name(name) + ISSUED)
        try:
            return datetime.fromisoformat(stamp) if stamp else None
        except ValueError:
            return None

    def delete(self, name: str) -> bool:
        """Remove a secret (and its issue time); False if it was not set."""
        from keyring.errors import PasswordDeleteError

        if self.get(name) is None:
            return False
        try:
            self._call(self.backend.delete_password, SERVICE, check_name(name))
        except PasswordDeleteError:
            return False
        if _dated(name):
            try:
                self._call(self.backend.delete_password, SERVICE, name + ISSUED)
            except PasswordDeleteError:
                pass
        return True

    def ensure(self, name: str, make: Callable[[], str] | None = None) -> tuple[Secret, bool]:
        """The secret `name`, creating a random one first if absent; (secret, created)."""
        current = self.get(name)
        if current is not None:
            return current, False
        return self.set(name, (make or random_token)()), True

    def _call(self, fn, *args):
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            with self._lock:
                return fn(*args)
        except PasswordDeleteError:
            raise
        except KeyringError as exc:
            raise KeyringUnavailable(f"the keyring ({self.description}) failed: {exc}; {FIX}") from None


class MemoryBackend:
    """Secrets kept in memory for this run only (the demo, when no keyring is usable)."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, name: str) -> str | None:
        return self._values.get((service, name))

    def set_password(self, service: str, name: str, value: str) -> None:
        self._values[(service, name)] = value

    def delete_password(self, service: str, name: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self._values.pop((service, name), None) is None:
            raise PasswordDeleteError(name)


def random_token(nbytes: int = 24) -> str:
    """A URL-safe random secret."""
    return random_source.token_urlsafe(nbytes)
