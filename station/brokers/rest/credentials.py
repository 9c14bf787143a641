"""Reading and saving broker credentials in the keyring without blocking the loop."""

from __future__ import annotations

import asyncio

from station.domain.credentials import set_hint
from station.brokers.rest.client import AuthError
from station.secrets import KeyringUnavailable, Secret, SecretStore


async def optional_secret(secrets: SecretStore, name: str) -> Secret | None:
    """The secret `name`, or None; the keyring is read in a thread (it may block on D-Bus)."""
    try:
        return await asyncio.to_thread(secrets.get, name)
    except KeyringUnavailable as exc:
        raise AuthError(str(exc)) from None


async def required_secret(secrets: SecretStore, name: str, why: str) -> Secret:
    """The secret `name`, or AuthError naming the command that stores it."""
    value = await optional_secret(secrets, name)
    if value is None:
        raise AuthError(f"{why}: no {name} in the keyring; {set_hint(name)}")
    return value


async def save_secret(secrets: SecretStore, name: str, value: str) -> Secret:
    """Store `value` under `name` (in a thread)."""
    try:
        return await asyncio.to_thread(secrets.set, name, value)
    except KeyringUnavailable as exc:
        raise AuthError(str(exc)) from None


class RefusedCredentials:
    """The credentials a broker refused last, so they are not sent again until they change.

    Repeated failed logins can get an account blocked (Tastytrade says so), and a
    refused Schwab refresh token stays refused; retrying is cheap once the keyring
    holds new values.
    """

    def __init__(self) -> None:
        self._fingerprint: str | None = None
        self._message = ""

    @staticmethod
    def _digest(values: tuple[Secret, ...]) -> str:
        import hashlib

        return hashlib.sha256("\0".join(v.reveal() for v in values).encode()).hexdigest()

    def check(self, *values: Secret) -> None:
        """AuthError (the earlier refusal) if these are the credentials refused before."""
        if self._fingerprint is not None and self._digest(values) == self._fingerprint:
            raise AuthError(self._message)

    def refused(self, error: AuthError, *values: Secret) -> AuthError:
        """Remember that these credentials were refused with `error`; returns it."""
        self._fingerprint, self._message = self._digest(values), str(error)
        return error
