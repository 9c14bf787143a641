"""`station broker authorize schwab`: the one browser login that gives Station a refresh token.

Schwab's OAuth is the authorization-code flow: the trader opens Schwab's login page, logs
in, and the browser is sent to the app's callback URL with `?code=…`. On the command line
the trader pastes that address back (the window catches it itself: `authorization.py`);
Station trades the code (valid about 30 seconds) for tokens and keeps the refresh token
in the keyring with the time it was issued. It lasts 7 days, so this is repeated weekly.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from station.brokers.rest.client import AuthError, RestClient, TransientError
from station.brokers.schwab.auth import (
    APP_KEY, APP_SECRET, DEFAULT_CALLBACK, REFRESH_TOKEN, authorize_url, code_from_redirect, request_tokens,
)
from station.domain.config import DestinationConfig
from station.secrets import SecretStore

DEFAULT_BASE_URL = "https://api.schwabapi.com"


class AuthorizeError(RuntimeError):
    """The authorisation could not be completed; the message says why and what to do."""


def pick_destination(destinations: list[DestinationConfig], wanted: str | None) -> DestinationConfig | None:
    """The `schwab` destination to authorise (by name, or the only/first one), or None if none is configured."""
    schwab = [d for d in destinations if d.type == "schwab"]
    if wanted is not None:
        for destination in schwab:
            if destination.name == wanted:
                return destination
        names = ", ".join(d.name for d in schwab) or "none configured"
        raise AuthorizeError(f"no schwab destination named {wanted!r} (schwab destinations: {names})")
    return schwab[0] if schwab else None


def authorize(secrets: SecretStore, destination: DestinationConfig | None, *, read_line: Callable[[], str],
              say: Callable[[str], None], redirect_url: str | None = None) -> None:
    """Run the flow: show the login URL, read the redirected URL, store the refresh token."""
    base_url, callback = urls(destination)
    app_key, app_secret = secrets.get(APP_KEY), secrets.get(APP_SECRET)
    for name, value in ((APP_KEY, app_key), (APP_SECRET, app_secret)):
        if value is None:
            raise AuthorizeError(f"no {name} in the keyring: run `station secret set {name}` first "
                                 "(App Key and Secret of your app at developer.schwab.com)")
    if redirect_url is None:
        say("1. Open this address in a browser and log in to Schwab (approve the accounts Station may use):\n"
            f"   {authorize_url(base_url, app_key.reveal(), callback)}\n"
            f"2. Schwab then sends the browser to {callback}/?code=… (the page itself may not load; that is fine).\n"
            "3. Within 30 seconds, paste that whole address here and press Enter:")
        redirect_url = read_line()
    try:
        code = code_from_redirect(redirect_url)
    except ValueError as exc:
        raise AuthorizeError(str(exc)) from None
    try:
        refresh_token = asyncio.run(exchange_code(base_url, app_key, app_secret, code, callback))
    except AuthorizeError as exc:
        raise AuthorizeError(f"{exc}; start again and paste promptly") from None
    secrets.set(REFRESH_TOKEN, refresh_token)
    where = f" for destination {destination.name}" if destination else ""
    say(f"Schwab authorised{where}: the refresh token is stored in {secrets.description} as {REFRESH_TOKEN}. "
        "It lasts 7 days; run `station broker authorize schwab` again before then. "
        "A running Station picks it up at its next connection attempt.")


def urls(destination: DestinationConfig | None) -> tuple[str, str]:
    """(API base URL, callback URL) of a schwab destination, or Schwab's defaults."""
    params = destination.params if destination else {}
    return params.get("base_url") or DEFAULT_BASE_URL, params.get("callback_url") or DEFAULT_CALLBACK


async def exchange_code(base_url: str, app_key, app_secret, code: str, callback: str) -> str:
    """The refresh token Schwab gives for an authorization `code`; AuthorizeError saying why not."""
    http = RestClient(base_url, None, title="Schwab")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback}
    try:
        body = await request_tokens(http, app_key, app_secret, form)
    except (AuthError, TransientError) as exc:
        raise AuthorizeError(f"{exc}; the code is valid for about 30 seconds") from None
    finally:
        await http.close()
    if not body.get("refresh_token"):
        raise AuthorizeError("Schwab's answer carried no refresh token")
    return str(body["refresh_token"])
