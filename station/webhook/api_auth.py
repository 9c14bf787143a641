"""Bearer-token authentication of `/api/...`: the keyring's `api-token`, compared in constant time."""

from __future__ import annotations

import ipaddress
import time

from aiohttp import web

from station.store.secret_store import Secret, SecretStore

TOKEN_NAME = "api-token"
REFRESH_S = 5.0  # `station secret set api-token` reaches a running Station within this


class ApiToken:
    """The current API token, re-read from the keyring now and then (never logged)."""

    def __init__(self, secrets: SecretStore) -> None:
        self._secrets = secrets
        self._token: Secret | None = None
        self._read_at = float("-inf")

    def current(self) -> Secret | None:
        now = time.monotonic()
        if now - self._read_at > REFRESH_S:
            self._token = self._secrets.get(TOKEN_NAME)
            self._read_at = now
        return self._token

    def accepts(self, offered: str | None) -> bool:
        """True if `offered` is the token (constant-time); never true when no token is set."""
        token = self.current()
        return token is not None and token.matches(offered)

    def check(self, request: web.Request) -> None:
        """Raise 401 (JSON) unless the request carries `Authorization: Bearer <api-token>`."""
        header = request.headers.get("Authorization", "")
        scheme, _, offered = header.partition(" ")
        if scheme.lower() != "bearer" or not self.accepts(offered.strip()):
            raise web.HTTPUnauthorized(
                text='{"status": "error", "message": "missing or wrong API token (Authorization: Bearer <api-token>)"}',
                content_type="application/json", headers={"WWW-Authenticate": 'Bearer realm="station"'},
            )


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8 and ::1 (a script on the trading PC itself)."""
    try:
        return address is not None and ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False
