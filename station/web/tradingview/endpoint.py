"""The HTTP side of the TradingView webhook: `POST /webhook` and `POST /webhook/{strategy}`.

Reads the body itself (so a too-large or slow body gets a JSON answer, not
aiohttp's text one), works out the sender's address, and hands the rest to
`AlertIntake`. Every answer is JSON.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from station.web.server import unreadable_body
from station.web.tradingview.intake import AlertIntake, Answer, error

log = logging.getLogger("station.web")

MAX_BODY = 64 * 1024
BODY_TIMEOUT_S = 10.0
JSON = "application/json"


def add_routes(app: web.Application, intake: AlertIntake) -> None:
    """Route `/webhook`, `/webhook/` and `/webhook/{strategy}` (any method; only POST is served)."""
    endpoint = WebhookEndpoint(intake)
    app.router.add_route("*", "/webhook", endpoint.handle)
    app.router.add_route("*", "/webhook/", endpoint.handle)
    app.router.add_route("*", "/webhook/{strategy}", endpoint.handle)


class WebhookEndpoint:
    """aiohttp handler around an `AlertIntake`."""

    def __init__(self, intake: AlertIntake) -> None:
        self.intake = intake

    async def handle(self, request: web.Request) -> web.Response:
        try:
            answer = await self._answer(request)
        except (RequestPayloadError, HttpProcessingError) as exc:  # the sender's bytes: e.g. a false gzip header
            return unreadable_body(request, exc)
        except Exception:  # a bug must still get a JSON answer, and the log must say where
            log.exception("webhook request failed")
            answer = error(500, "internal error; the alert was NOT accepted (see Station's log)")
        return web.Response(status=answer.status, body=answer.body, content_type=JSON, headers=answer.headers)

    async def _answer(self, request: web.Request) -> Answer:
        if request.method != "POST":
            return error(405, "send alerts with POST", Allow="POST")
        access = self.intake.access
        address = access.client_address(request.remote, request.headers.get("X-Forwarded-For")
                                         if access.behind_tunnel else None)
        refused = self.intake.admit(address)
        if refused is not None:
            return refused
        length = request.content_length
        if length is not None and length > MAX_BODY:
            return _too_large()
        if request.content.is_eof():  # the whole body came with the headers (the usual alert): no timer
            body = request.content.read_nowait()
        else:
            try:
                async with asyncio.timeout(BODY_TIMEOUT_S):
                    body = await _read(request, MAX_BODY)
            except TimeoutError:
                return error(408, f"the body did not arrive within {BODY_TIMEOUT_S:.0f} s")
        if body is None or len(body) > MAX_BODY:
            return _too_large()
        strategy = request.match_info.get("strategy")
        return await self.intake.receive(body, address=address, path_strategy=strategy)


def _too_large() -> Answer:
    return error(413, f"the body is larger than {MAX_BODY // 1024} KiB")


async def _read(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None once it passes `limit` bytes."""
    content = request.content
    body = await content.read(limit + 1)
    while body and len(body) <= limit and not content.at_eof():
        more = await content.read(limit + 1 - len(body))
        if not more:
            break
        body += more
    return None if len(body) > limit else body
