"""A small JSON-over-HTTPS client for broker REST APIs: auth header, one retry after 401, 429 back-off.

Errors say what follows from them:
- `AuthError`: credentials missing, wrong or expired; the message names the fix
  (`station secret set …`, `station broker authorize schwab`). Retrying soon will not help.
- `TransientError`: the broker could not be reached or failed (connection refused,
  timeout, 5xx, persistent 429). `sent` tells whether the request may have reached it,
  which decides whether a POSTed order is "in doubt".
- `RejectedError`: the broker answered 4xx with a reason (its own message). Definitive.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from station.backoff import Backoff
from station.brokers.protocol import BrokerError

log = logging.getLogger("station.brokers.rest.client")

TIMEOUT_S = 10.0
RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER_S = 10.0
RATE_LIMIT_WAIT_S = 0.5  # the first wait after a 429 that does not say how long (then doubling)


class AuthError(RuntimeError):
    """Credentials are missing, wrong or expired; the message says how to fix it."""


class TransientError(RuntimeError):
    """The broker is unreachable or failing for now; `sent` if the request may have been processed."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class RejectedError(BrokerError):
    """The broker refused the request and said why (`message` is the broker's text)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Auth(Protocol):
    """Supplies the Authorization header and renews it when the broker says it expired."""

    async def header(self, http: "RestClient") -> str:
        """The current Authorization header value, logging in or refreshing first if needed."""

    def invalidate(self) -> None:
        """Forget the current access token (the broker answered 401)."""


@dataclass(frozen=True, slots=True)
class Response:
    """A broker's answer: status, headers and the decoded JSON body (None if empty or not JSON)."""

    status: int
    headers: dict[str, str]
    body: Any


def error_text(body: Any, default: str) -> str:
    """The human part of a broker's error body (Schwab `message`/`errors`, Tastytrade `error`)."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            parts = [str(error.get("message") or "")]
            parts += [str(e.get("message") or e.get("reason") or "") for e in error.get("errors") or [] if isinstance(e, dict)]
            return "; ".join(p for p in parts if p) or default
        parts = [str(body.get("message") or body.get("error_description") or (error if isinstance(error, str) else "") or "")]
        for item in body.get("errors") or []:
            parts.append(str(item.get("detail") or item.get("message") or item.get("title") or "") if isinstance(item, dict) else str(item))
        return "; ".join(p for p in dict.fromkeys(parts) if p) or default
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return default


class RestClient:
    """JSON requests to one broker base URL, authorised by `auth`, on the running loop."""

    def __init__(self, base_url: str, auth: Auth | None, *, title: str, headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.title = title
        self._headers = {"Accept": "application/json", **(headers or {})}
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def request(self, method: str, path: str, *, json_body: Any = None, params: dict | None = None,
                      form: dict | None = None, headers: dict[str, str] | None = None,
                      authorised: bool = True) -> Response:
        """Send one request; retry once after a 401 (fresh token) and after 429s; raise by outcome."""
        retried_auth = False
        rate_limited = Backoff(RATE_LIMIT_WAIT_S, MAX_RETRY_AFTER_S)
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            sent_headers = {**self._headers, **(headers or {})}
            if authorised and self.auth is not None:
                sent_headers["Authorization"] = await self.auth.header(self)
            response = await self._send(method, path, json_body, params, form, sent_headers)
            if response.status == 401 and authorised and self.auth is not None and not retried_auth:
                retried_auth = True
                self.auth.invalidate()
                continue
            if response.status == 401 and authorised:
                raise AuthError(f"{self.title} refused the credentials ({error_text(response.body, 'unauthorized')})")
            if response.status == 429:
                if attempt == RATE_LIMIT_RETRIES:
                    raise TransientError(f"{self.title} rate limit: still 429 after {attempt + 1} tries", sent=False)
                wait = _retry_after(response.headers, rate_limited)
                log.warning("%s rate limit on %s %s; retrying in %.1f s", self.title, method, path, wait)
                await asyncio.sleep(wait)
                continue
            if response.status >= 500:
                raise TransientError(f"{self.title} answered {response.status} on {method} {path}: "
                                     f"{error_text(response.body, 'server error')}", sent=True)
            if response.status >= 400:
                raise RejectedError(response.status, error_text(response.body, f"HTTP {response.status}"))
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, method: str, path: str, json_body: Any, params: dict | None, form: dict | None,
                    headers: dict[str, str]) -> Response:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        kwargs: dict[str, Any] = {"headers": headers, "params": params}
        if form is not None:
            kwargs["data"] = form
        elif json_body is not None:
            kwargs["data"] = json.dumps(json_body)
            headers["Content-Type"] = "application/json"
        try:
            async with self.session.request(method, url, **kwargs) as raw:
                text = await raw.text()
                return Response(raw.status, dict(raw.headers), _decode(text))
        except aiohttp.ClientConnectorError as exc:
            raise TransientError(f"{self.title} unreachable: {exc.os_error.strerror or exc}", sent=False) from None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise TransientError(f"{self.title} connection failed during {method} {path}: "
                                 f"{type(exc).__name__} {exc}".strip(), sent=True) from None


def _decode(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _retry_after(headers: dict[str, str], backoff: Backoff) -> float:
    """The broker's Retry-After (capped), else the next step of the back-off."""
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        wait = float(value) if value is not None else backoff.next()
    except ValueError:
        wait = backoff.next()
    return max(0.05, min(wait, MAX_RETRY_AFTER_S))
