"""Schwab's browser login from the window: `AuthorizeBroker` → the login URL, the redirect caught, the token stored.

On `AuthorizeBroker` the component reads the app key and secret, starts the TLS callback
listener on the destination's callback URL (`callback.py`) and answers
`BrokerAuthorizationStarted` with Schwab's login URL (the window opens the browser).
Whichever comes first ends it: the browser arriving at the listener, or the address
pasted by hand (`CompleteBrokerAuthorization`, the fallback when the port cannot be
opened). The code is traded for tokens, the refresh token stored with its issue time,
and `BrokerAuthorized` says how it went. A new request replaces one still waiting.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Callable

from station.bus import Bus
from station.brokers.rest.credentials import optional_secret
from station.brokers.rest.client import AuthError
from station.brokers.schwab.auth import APP_KEY, APP_SECRET, REFRESH_TOKEN, authorize_url, code_from_redirect
from station.brokers.schwab.authorize import AuthorizeError, exchange_code, pick_destination, urls
from station.brokers.schwab.callback import CallbackError, CallbackListener
from station.domain.commands import AuthorizeBroker, CompleteBrokerAuthorization
from station.domain.config import DestinationConfig
from station.domain.credentials import SCHWAB_REFRESH_LIFETIME
from station.domain.events import BrokerAuthorizationStarted, BrokerAuthorized, SecretChanged
from station.domain.timeutil import to_eastern, utc_now
from station.secrets import KeyringUnavailable, SecretStore

log = logging.getLogger("station.brokers")

WAIT_S = 300.0  # for the trader to log in


class _Login:
    """One login under way: its listener (if it could open) and where a pasted address goes."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.pasted: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.listener: CallbackListener | None = None
        self.task: asyncio.Task | None = None


class SchwabAuthorization:
    """Component `schwab-authorization`: runs the browser login the window asks for."""

    name = "schwab-authorization"

    def __init__(self, bus: Bus, secrets: SecretStore, destinations: Callable[[], list[DestinationConfig]],
                 tls_dir: Path, *, wait_s: float = WAIT_S) -> None:
        self.bus, self.secrets, self.destinations = bus, secrets, destinations
        self.tls_dir, self.wait_s = tls_dir, wait_s
        self._login: _Login | None = None
        self._unsubscribe: list = []

    async def start(self) -> None:
        self._unsubscribe = [self.bus.subscribe(AuthorizeBroker, self.on_authorize),
                             self.bus.subscribe(CompleteBrokerAuthorization, self.on_complete)]

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        await self._end()

    # ---- commands ------------------------------------------------------------------------------

    async def on_authorize(self, command: AuthorizeBroker) -> None:
        if command.broker != "schwab":
            self._answer(command.request_id, False, f"no browser login for {command.broker!r}")
            return
        await self._end()
        login = self._login = _Login(command.request_id)
        login.task = asyncio.ensure_future(self._run(login, command.destination))

    def on_complete(self, command: CompleteBrokerAuthorization) -> None:
        login = self._login
        if login is None or login.request_id != command.request_id:
            self._answer(command.request_id, False, "that login is no longer waiting: press Authorize… again")
        elif not login.pasted.done():
            login.pasted.set_result(command.redirect_url)

    # ---- the login -----------------------------------------------------------------------------

    async def _run(self, login: _Login, wanted: str | None) -> None:
        try:
            message, issued = await self._login_once(login, wanted)
        except (AuthorizeError, AuthError, KeyringUnavailable) as exc:
            self._answer(login.request_id, False, str(exc))
        except asyncio.TimeoutError:
            self._answer(login.request_id, False, f"no login arrived within {self.wait_s / 60:.0f} minutes: "
                                                  "press Authorize… to start again")
        except asyncio.CancelledError:
            self._answer(login.request_id, False, "cancelled: another login was started")
            raise
        except Exception as exc:  # a bug: say it, keep the component alive
            log.exception("Schwab login failed")
            self._answer(login.request_id, False, f"the login failed: {exc}")
        else:
            self._answer(login.request_id, True, message, issued)
            self.bus.publish(SecretChanged(REFRESH_TOKEN))
        finally:
            if login.listener is not None:
                await login.listener.stop()
            if self._login is login:
                self._login = None

    async def _login_once(self, login: _Login, wanted: str | None) -> tuple[str, datetime]:
        destination = pick_destination(self.destinations(), wanted)
        base_url, callback = urls(destination)
        app_key = await optional_secret(self.secrets, APP_KEY)
        app_secret = await optional_secret(self.secrets, APP_SECRET)
        missing = [name for name, value in ((APP_KEY, app_key), (APP_SECRET, app_secret)) if value is None]
        if missing:
            raise AuthorizeError(f"set the {' and '.join(missing)} first (your app at developer.schwab.com)")
        note, listening = "", True
        try:
            login.listener = CallbackListener(callback, self.tls_dir)
            await login.listener.start()
        except CallbackError as exc:
            login.listener, listening = None, False
            note = f"{exc}; paste the address the browser lands on instead"
        self.bus.publish(BrokerAuthorizationStarted(login.request_id, authorize_url(base_url, app_key.reveal(), callback),
                                                    callback, listening, note))
        code = await asyncio.wait_for(self._code(login), self.wait_s)
        refresh_token = await exchange_code(base_url, app_key, app_secret, code, callback)
        issued = utc_now()
        await asyncio.to_thread(self.secrets.set, REFRESH_TOKEN, refresh_token, issued_at=issued)
        until = to_eastern(issued + SCHWAB_REFRESH_LIFETIME).strftime("%a %Y-%m-%d %H:%M %Z")
        where = f" ({destination.name})" if destination else ""
        log.info("Schwab authorised%s; the refresh token lasts until %s", where, until)
        return f"Schwab authorised{where}: the refresh token is stored and lasts until {until}.", issued

    async def _code(self, login: _Login) -> str:
        """The authorization code: from the browser's arrival at the listener, or from a pasted address."""
        waiting = [login.pasted] + ([login.listener.arrived] if login.listener and login.listener.arrived else [])
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if login.pasted in done:
            try:
                return code_from_redirect(login.pasted.result())
            except ValueError as exc:
                raise AuthorizeError(str(exc)) from None
        code, failure = login.listener.arrived.result()
        if failure:
            raise AuthorizeError(f"Schwab did not authorise Station: {failure}")
        return code

    async def _end(self) -> None:
        """Cancel a login still waiting (its listener closes)."""
        login, self._login = self._login, None
        if login is not None and login.task is not None and not login.task.done():
            login.task.cancel()
            try:
                await login.task
            except asyncio.CancelledError:
                pass

    def _answer(self, request_id: str, ok: bool, message: str, issued: datetime | None = None) -> None:
        self.bus.publish(BrokerAuthorized(request_id, ok, message, issued))
