"""Schwab OAuth 2 (authorization code): the first browser login, and access tokens from the refresh token.

The app key and secret (`schwab-app-key`, `schwab-app-secret`) and the refresh token
(`schwab-refresh-token`, valid 7 days after the browser login) live in the keyring.
The access token (30 minutes) lives in memory only and is refreshed a minute before
it expires, or at once when Schwab answers 401.
"""

from __future__ import annotations

import asyncio
import base64
import time
from urllib.parse import parse_qs, unquote, urlencode, urlparse

from station.brokers.rest.credentials import RefusedCredentials, optional_secret, required_secret, save_secret
from station.brokers.rest.client import AuthError, RejectedError, RestClient
from station.secrets import Secret, SecretStore

AUTHORIZE_PATH = "/v1/oauth/authorize"
TOKEN_PATH = "/v1/oauth/token"
APP_KEY, APP_SECRET, REFRESH_TOKEN = "schwab-app-key", "schwab-app-secret", "schwab-refresh-token"
DEFAULT_CALLBACK = "https://127.0.0.1"
EARLY_S = 60.0
AUTHORIZE_HINT = ("use Settings → Accounts & keys → Schwab → Authorize…, or run `station broker authorize schwab` "
                  "(either opens Schwab's login and stores the token)")


def authorize_url(base_url: str, app_key: str, callback_url: str) -> str:
    """The Schwab login page the trader opens in a browser."""
    return f"{base_url.rstrip('/')}{AUTHORIZE_PATH}?{urlencode({'client_id': app_key, 'redirect_uri': callback_url})}"


def code_from_redirect(redirected: str) -> str:
    """The authorization code in the URL Schwab redirected the browser to (`…?code=C0.b2F…%40&session=…`)."""
    text = redirected.strip()
    query = parse_qs(urlparse(text).query)
    codes = query.get("code")
    if not codes or not codes[0].strip():
        raise ValueError("that URL carries no ?code=…; paste the whole address the browser was sent to after logging in")
    return unquote(codes[0].strip())


def basic_auth(app_key: str, app_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{app_key}:{app_secret}".encode()).decode("ascii")


async def request_tokens(http: RestClient, app_key: Secret, app_secret: Secret, form: dict[str, str]) -> dict:
    """POST the token endpoint; AuthError with Schwab's reason if it refuses."""
    try:
        response = await http.request("POST", TOKEN_PATH, form=form, authorised=False,
                                      headers={"Authorization": basic_auth(app_key.reveal(), app_secret.reveal())})
    except RejectedError as exc:
        raise AuthError(f"Schwab refused the token request ({exc.message})") from None
    body = response.body if isinstance(response.body, dict) else {}
    if not body.get("access_token"):
        raise AuthError("Schwab's token answer carried no access token")
    return body


class SchwabAuth:
    """Keeps a valid access token; saves a renewed refresh token back to the keyring."""

    def __init__(self, secrets: SecretStore) -> None:
        self.secrets = secrets
        self._access: Secret | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self._refused = RefusedCredentials()

    def __repr__(self) -> str:
        return "SchwabAuth(***)"

    async def header(self, http: RestClient) -> str:
        if self._access is None or time.monotonic() > self._expires_at - EARLY_S:
            async with self._lock:
                if self._access is None or time.monotonic() > self._expires_at - EARLY_S:
                    await self._refresh(http)
        return f"Bearer {self._access.reveal()}"

    def invalidate(self) -> None:
        self._access = None

    async def _refresh(self, http: RestClient) -> None:
        app_key = await required_secret(self.secrets, APP_KEY, "Schwab needs the app key of your developer app")
        app_secret = await required_secret(self.secrets, APP_SECRET, "Schwab needs the app secret of your developer app")
        refresh = await optional_secret(self.secrets, REFRESH_TOKEN)
        if refresh is None:
            raise AuthError(f"Schwab is not authorised yet: no {REFRESH_TOKEN} in the keyring; {AUTHORIZE_HINT}; "
                            f"or store one with `station secret set {REFRESH_TOKEN}`")
        self._refused.check(app_key, app_secret, refresh)
        try:
            body = await request_tokens(http, app_key, app_secret,
                                        {"grant_type": "refresh_token", "refresh_token": refresh.reveal()})
        except AuthError as exc:
            raise self._refused.refused(AuthError(f"{exc}: the refresh token lasts 7 days after the browser login; "
                                                  f"{AUTHORIZE_HINT}"), app_key, app_secret, refresh) from None
        self._access = Secret(str(body["access_token"]))
        self._expires_at = time.monotonic() + float(body.get("expires_in") or 1800)
        renewed = body.get("refresh_token")
        if renewed and not refresh.matches(str(renewed)):
            await save_secret(self.secrets, REFRESH_TOKEN, str(renewed))
