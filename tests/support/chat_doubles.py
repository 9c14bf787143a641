"""Loopback doubles of Telegram's Bot API (`POST /bot<token>/sendMessage`) and a Discord webhook
(`POST /api/webhooks/<id>/<token>`) on real aiohttp servers; each records what it received.

They answer as the services do: Telegram `{"ok": true, "result": {...}}` (401 `Unauthorized` for another
bot token, 429 with `parameters.retry_after`), Discord 204 (404 `Unknown Webhook` for another token,
429 with `retry_after`). `throttle(n, after)` makes the next n requests a 429.
"""

from __future__ import annotations

import json

from aiohttp import web


class ChatDouble:
    """A recording HTTP double; `received` holds (path, JSON body) per accepted message."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.refused: list[tuple[str, int]] = []
        self._throttle = 0
        self._retry_after = 0.0
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def throttle(self, count: int, retry_after: float) -> None:
        self._throttle, self._retry_after = count, retry_after

    async def start(self) -> "ChatDouble":
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def throttled(self, path: str) -> bool:
        if self._throttle > 0:
            self._throttle -= 1
            self.refused.append((path, 429))
            return True
        return False


class TelegramDouble(ChatDouble):
    """Telegram's `sendMessage` for one bot token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/bot{token}/sendMessage", self.send_message)

    async def send_message(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            self.refused.append((request.path, 401))
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        if self.throttled(request.path):
            return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests",
                                      "parameters": {"retry_after": self._retry_after}}, status=429)
        body = json.loads(await request.text())
        self.received.append((request.path, body))
        return web.json_response({"ok": True, "result": {"message_id": len(self.received), "text": body["text"]}})


class DiscordDouble(ChatDouble):
    """One Discord channel webhook (`/api/webhooks/<id>/<token>`)."""

    def __init__(self, webhook_id: str = "1234", token: str = "webhook-token") -> None:
        super().__init__()
        self.webhook_id, self.token = webhook_id, token

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/api/webhooks/{self.webhook_id}/{self.token}"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/webhooks/{id}/{token}", self.execute)

    async def execute(self, request: web.Request) -> web.Response:
        if (request.match_info["id"], request.match_info["token"]) != (self.webhook_id, self.token):
            self.refused.append((request.path, 404))
            return web.json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        if self.throttled(request.path):
            return web.json_response({"message": "You are being rate limited.", "retry_after": self._retry_after,
                                      "global": False}, status=429)
        self.received.append((request.path, json.loads(await request.text())))
        return web.Response(status=204)
