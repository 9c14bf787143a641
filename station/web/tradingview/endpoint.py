"""The HTTP side of the TradingView webhook: `POST /webhook[/{strategy}]` and the same under `/v4/webhook`.

Reads the body itself (so a too-large or slow body gets a JSON answer, not
aiohttp's text one), works out the sender's address, and hands the rest to
`AlertIntake`. Every answer is JSON. Every 4xx is recorded as a refusal
(`RefusalRecorder`): time, source, status, reason, the path's strategy, the body's start.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from station.web.server import unreadable_body
from station.web.tradingview.intake import AlertIntake, Answer, error
from station.web.tradingview.refusals import RefusalRecorder

log = logging.getLogger("station.web")

MAX_BODY = 64 * 1024
# what a refusal made before reading the body keeps of what already came (no waiting): more than the 512 bytes
# recorded, so a passphrase crossing that cut is still taken out whole, not cut to a prefix that stays
RECORD_READ = MAX_BODY
BODY_TIMEOUT_S = 10.0
JSON = "application/json"
# `/v4/webhook` is the path pairs-api users already have in their TradingView alerts
PREFIXES = ("/webhook", "/v4/webhook")


def add_routes(app: web.Application, intake: AlertIntake, refusals: RefusalRecorder | None = None) -> None:
    """Route `/webhook`, `/webhook/`, `/webhook/{strategy}` and the same under `/v4` (any method; only POST is served)."""
    endpoint = WebhookEndpoint(intake, refusals)
    for prefix in PREFIXES:
        app.router.add_route("*", prefix, endpoint.handle)
        app.router.add_route("*", f"{prefix}/", endpoint.handle)
        app.router.add_route("*", f"{prefix}/{{strategy}}", endpoint.handle)


@dataclass
class _Seen:
    """What a request showed before its answer: kept for the refusal record."""

    address: str = ""
    body: bytes | None = None
    query_passphrase: str | None = None


class WebhookEndpoint:
    """aiohttp handler around an `AlertIntake`."""

    def __init__(self, intake: AlertIntake, refusals: RefusalRecorder | None = None) -> None:
        self.intake = intake
        self.refusals = refusals

    async def handle(self, request: web.Request) -> web.Response:
        seen = _Seen(address=request.remote or "")
        try:
            answer = await self._answer(request, seen)
        except (RequestPayloadError, HttpProcessingError) as exc:  # the sender's bytes: e.g. a false gzip header
            response = unreadable_body(request, exc)
            self._record(request, seen, response.status, json.loads(response.body)["message"])
            return response
        except Exception:  # a bug must still get a JSON answer, and the log must say where
            log.exception("webhook request failed")
            answer = error(500, "internal error; the alert was NOT accepted (see Station's log)")
        if 400 <= answer.status < 500:
            self._record(request, seen, answer.status, answer.message)
        return web.Response(status=answer.status, body=answer.body, content_type=JSON, headers=answer.headers)

    def _record(self, request: web.Request, seen: _Seen, status: int, reason: str) -> None:
        if self.refusals is None:
            return
        configured = self.intake.passphrase.reveal() if self.intake.passphrase is not None else None
        try:
            self.refusals.record(status, reason, source=seen.address, strategy=request.match_info.get("strategy"),
                                 body=seen.body, known_passphrases=(seen.query_passphrase, configured))
        except Exception:  # recording must never cost the sender its answer
            log.exception("recording a refused webhook request failed")

    async def _answer(self, request: web.Request, seen: _Seen) -> Answer:
        access = self.intake.access
        address = access.client_address(request.remote, request.headers.get("X-Forwarded-For")
                                        if access.behind_tunnel else None)
        seen.address = address
        seen.query_passphrase = request.query.get("passphrase")
        if request.method != "POST":
            return error(405, "send alerts with POST", Allow="POST")
        refused = self.intake.admit(address)
        if refused is not None:
            seen.body = request.content.read_nowait(RECORD_READ)  # what already came, for the record; no waiting
            return refused
        length = request.content_length
        if length is not None and length > MAX_BODY:
            seen.body = request.content.read_nowait(RECORD_READ)  # what already came, for the record; no waiting
            return _too_large()
        if request.content.is_eof():  # the whole body came with the headers (the usual alert): no timer
            body = request.content.read_nowait()
        else:
            try:
                async with asyncio.timeout(BODY_TIMEOUT_S):
                    body = await _read(request, MAX_BODY)
            except TimeoutError:
                return error(408, f"the body did not arrive within {BODY_TIMEOUT_S:.0f} s")
        seen.body = body
        if len(body) > MAX_BODY:
            return _too_large()
        strategy = request.match_info.get("strategy")
        return await self.intake.receive(body, address=address, path_strategy=strategy,
                                         query_passphrase=seen.query_passphrase)


def _too_large() -> Answer:
    return error(413, f"the body is larger than {MAX_BODY // 1024} KiB")


async def _read(request: web.Request, limit: int) -> bytes:
    """The whole body, or its first `limit` + 1 bytes once it passes `limit` (too large: the rest stays unread)."""
    content = request.content
    body = await content.read(limit + 1)
    while body and len(body) <= limit and not content.at_eof():
        more = await content.read(limit + 1 - len(body))
        if not more:
            break
        body += more
    return body
