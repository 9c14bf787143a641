"""Bearer-token access to `/api/…`: the `api-token` secret, compared in constant time; JSON errors."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web

from station.secrets import Secret

log = logging.getLogger("station.web")

TOKEN_NAME = "api-token"
REFRESH_S = 5.0  # a token changed with `station secret set api-token` is honoured within this


def error(status: int, message: str, errors: dict[str, str] | None = None, **headers: str) -> web.Response:
    """The API's error answer: `{"status": "error", "message": …, "errors": {…}}`."""
    body: dict[str, Any] = {"status": "error", "message": message}
    if errors:
        body["errors"] = errors
    return web.json_response(body, status=status, headers=headers or None)


class ApiError(Exception):
    """An error answer raised from deep in a handler."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors

    def response(self) -> web.Response:
        return error(self.status, self.message, self.errors)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or a 400 ApiError saying what is wrong with it."""
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "the body is not valid JSON") from None
    except LookupError:  # Content-Type names a charset Python does not know
        raise ApiError(400, f"the Content-Type's charset {str(request.charset)[:40]!r} is unknown") from None
    except RecursionError:
        raise ApiError(400, "the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


class ApiToken:
    """The current `api-token`, created at first start if absent, re-read from the keyring now and then."""

    def __init__(self, secrets) -> None:
        self._secrets = secrets
        self._value: Secret | None = None
        self._read_at = 0.0
        self.created = False

    def ensure(self) -> Secret:
        """Read the token, creating a random one if there is none (blocking: call off the loop)."""
        self._value, self.created = self._secrets.ensure(TOKEN_NAME)
        self._read_at = time.monotonic()
        if self.created:
            log.warning("created the REST API token (secret %s); Settings > REST API and notifications shows it", TOKEN_NAME)
        return self._value

    def current_value(self) -> str:
        """The token in plain text, for the one place that shows it to its owner (Settings, first start)."""
        return self._value.reveal() if self._value else ""

    async def current(self) -> Secret | None:
        if time.monotonic() - self._read_at > REFRESH_S:
            try:
                self._value = await asyncio.to_thread(self._secrets.get, TOKEN_NAME)
            except Exception:  # keep the last known token if the keyring hiccups
                log.exception("reading %s from the keyring failed", TOKEN_NAME)
            self._read_at = time.monotonic()
        return self._value

    async def regenerate(self) -> Secret:
        """Replace the token by a new random one (the old one stops working at once)."""
        from station.secrets import random_token

        self._value = await asyncio.to_thread(self._secrets.set, TOKEN_NAME, random_token())
        self._read_at = time.monotonic()
        return self._value


def api_middleware(token: ApiToken):
    """Checks the bearer token on every `/api/` request and answers every API error as JSON."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        if not request.path.startswith("/api/") and request.path != "/api":
            return await handler(request)
        header = request.headers.get("Authorization", "")
        scheme, _, offered = header.partition(" ")
        secret = await token.current()
        if scheme.lower() != "bearer" or secret is None or not secret.matches(offered.strip()):
            return error(401, "missing or wrong API token: send Authorization: Bearer <api-token>",
                         **{"WWW-Authenticate": 'Bearer realm="station"'})
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return error(exc.status, exc.reason if exc.status != 404 else f"no such API resource: {request.path}")

    return middleware
