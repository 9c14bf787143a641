"""Tastytrade login: OAuth 2 (client secret + refresh token), or a username/password session.

OAuth is what Tastytrade supports going forward: `tastytrade-client-secret` (of your
OAuth application) and `tastytrade-refresh-token` (from "Create Grant"; it does not
expire) give 15-minute access tokens, sent as `Authorization: Bearer …`.
Accounts still on the older session login use `tastytrade-username` and
`tastytrade-password`: `POST /sessions` gives a 24-hour session token (sent bare) and a
remember token, kept in memory, that renews the session without resending the password.
"""

from __future__ import annotations

import asyncio
import time

from station.domain.credentials import secret_commands, set_hint
from station.brokers.rest.credentials import RefusedCredentials, optional_secret, required_secret
from station.brokers.rest.client import AuthError, RejectedError, RestClient
from station.secrets import Secret, SecretStore

CLIENT_SECRET, REFRESH_TOKEN = "tastytrade-client-secret", "tastytrade-refresh-token"
USERNAME, PASSWORD = "tastytrade-username", "tastytrade-password"
EARLY_S = 60.0
SESSION_LIFETIME_S = 24 * 3600.0
NO_CREDENTIALS = ("Tastytrade has no credentials in the keyring: set them in Settings → Accounts & keys (or "
                  f"{secret_commands(CLIENT_SECRET, REFRESH_TOKEN)} for OAuth, or "
                  f"{secret_commands(USERNAME, PASSWORD)} for a login)")


class TastytradeAuth:
    """Keeps a valid Authorization header for the Tastytrade API."""

    def __init__(self, secrets: SecretStore) -> None:
        self.secrets = secrets
        self._token: Secret | None = None
        self._scheme = ""  # "Bearer " for OAuth access tokens; session tokens go bare
        self._expires_at = 0.0
        self._remember: Secret | None = None
        self._lock = asyncio.Lock()
        self._refused = RefusedCredentials()

    def __repr__(self) -> str:
        return "TastytradeAuth(***)"

    async def header(self, http: RestClient) -> str:
        if self._token is None or time.monotonic() > self._expires_at - EARLY_S:
            async with self._lock:
                if self._token is None or time.monotonic() > self._expires_at - EARLY_S:
                    await self._login(http)
        return f"{self._scheme}{self._token.reveal()}"

    def invalidate(self) -> None:
        self._token = None

    async def _login(self, http: RestClient) -> None:
        client_secret = await optional_secret(self.secrets, CLIENT_SECRET)
        refresh = await optional_secret(self.secrets, REFRESH_TOKEN)
        if client_secret is not None or refresh is not None:
            if client_secret is None or refresh is None:
                missing = CLIENT_SECRET if client_secret is None else REFRESH_TOKEN
                raise AuthError(f"Tastytrade OAuth needs both secrets: {set_hint(missing)}")
            await self._oauth(http, client_secret, refresh)
            return
        username = await optional_secret(self.secrets, USERNAME)
        if username is None:
            raise AuthError(NO_CREDENTIALS)
        await self._session(http, username)

    async def _oauth(self, http: RestClient, client_secret: Secret, refresh: Secret) -> None:
        self._refused.check(client_secret, refresh)
        try:
            body = await self._post(http, "/oauth/token", {"grant_type": "refresh_token",
                                                          "client_secret": client_secret.reveal(),
                                                          "refresh_token": refresh.reveal()}, "the OAuth refresh token")
        except AuthError as exc:
            raise self._refused.refused(exc, client_secret, refresh) from None
        token = body.get("access_token")
        if not token:
            raise AuthError("Tastytrade's token answer carried no access token")
        self._token, self._scheme = Secret(str(token)), "Bearer "
        self._expires_at = time.monotonic() + float(body.get("expires_in") or 900)

    async def _session(self, http: RestClient, username: Secret) -> None:
        body = None
        if self._remember is not None:
            try:
                body = await self._post(http, "/sessions", {"login": username.reveal(), "remember-token":
                                        self._remember.reveal(), "remember-me": True}, "the remember token")
            except AuthError:
                self._remember = None  # expired or used: fall back to the password
        if body is None:
            password = await required_secret(self.secrets, PASSWORD, f"Tastytrade login {USERNAME} is set")
            self._refused.check(username, password)
            try:
                body = await self._post(http, "/sessions", {"login": username.reveal(), "password": password.reveal(),
                                                           "remember-me": True}, "the username and password")
            except AuthError as exc:
                raise self._refused.refused(exc, username, password) from None
        data = body.get("data") or {}
        if not data.get("session-token"):
            raise AuthError("Tastytrade's login answer carried no session token")
        self._token, self._scheme = Secret(str(data["session-token"])), ""
        self._remember = Secret(str(data["remember-token"])) if data.get("remember-token") else None
        self._expires_at = time.monotonic() + SESSION_LIFETIME_S

    @staticmethod
    async def _post(http: RestClient, path: str, payload: dict, what: str) -> dict:
        try:
            response = await http.request("POST", path, json_body=payload, authorised=False)
        except RejectedError as exc:
            raise AuthError(f"Tastytrade refused {what} ({exc.message})") from None
        return response.body if isinstance(response.body, dict) else {}
