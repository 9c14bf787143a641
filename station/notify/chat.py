"""Chat notifications: Telegram (a bot writes to one chat) and Discord (a channel's webhook), beside the tray
and e-mail.

The bot's token (`telegram-bot-token`) and the webhook's URL (`discord-webhook-url`, it holds
a token) are keyring secrets; the chat id, the Telegram API's address and a switch per kind
(`notify/chat_kinds.py`) are `notifications` settings, read through the callable
`station/app.py` hands in. As e-mail does, lines are gathered for `batch_s` and sent as one
message; past `MAX_PER_MINUTE` messages a minute per service (their own limits are about
that) lines wait and go out summed in the next message, and a message too long for the
service keeps its first lines and says how many more there were. A failed send is logged
once with the HTTP status only: the URLs carry the secrets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any, Callable

from station.bus import Bus
from station.domain.events import (
    AlertRejected, AlertUnrouted, ConfigChanged, Notified, OrderFilled, OrderUpdated, RequestRefused,
)
from station.notify.chat_kinds import SWITCHES, ChatLine, chat_line

log = logging.getLogger("station.notify")

TELEGRAM_TOKEN, DISCORD_URL = "telegram-bot-token", "discord-webhook-url"
BATCH_S = 2.0
MAX_PER_MINUTE = 20
MAX_PENDING = 500  # lines kept while a service is down
TIMEOUT_S = 15.0
LIMITS = {"telegram": 4096, "discord": 2000}  # characters a message may have


def compose(lines: list[ChatLine], limit: int) -> str:
    """One message of `lines`, cut to `limit` characters with the count of lines left out."""
    text, kept = "", 0
    for line in lines:
        candidate = f"{text}\n{line.text}" if text else line.text
        rest = len(lines) - kept - 1
        if len(candidate) + (len(f"\n(+{rest} more)") if rest else 0) > limit:
            break
        text, kept = candidate, kept + 1
    if kept < len(lines):
        text = f"{text}\n(+{len(lines) - kept} more)" if text else f"(+{len(lines)} more)"
    return text[:limit]


class ChatChannel:
    """One service's queue: lines wait here until a send is allowed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pending: list[ChatLine] = []
        self.sent_at: deque[float] = deque()
        self.retry_at = 0.0
        self.sent = 0
        self.last_error: str | None = None

    def wait_s(self, now: float) -> float:
        """Seconds until this channel may send again (its per-minute limit, a service's Retry-After)."""
        while self.sent_at and now - self.sent_at[0] >= 60:
            self.sent_at.popleft()
        limit_wait = 60 - (now - self.sent_at[0]) if len(self.sent_at) >= MAX_PER_MINUTE else 0.0
        return max(limit_wait, self.retry_at - now, 0.0)


class ChatNotifier:
    """Component `chat`: routes chat lines to Telegram and Discord when enabled, per kind."""

    name = "chat"

    def __init__(self, bus: Bus, settings: Callable[[], dict[str, Any]], secrets, *, batch_s: float = BATCH_S) -> None:
        self.bus, self.settings, self.secrets, self.batch_s = bus, settings, secrets, batch_s
        self.channels = {name: ChatChannel(name) for name in LIMITS}
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()
        self._session = None
        self._unsubscribe: list[Callable[[], None]] = []
        # the settings as last read: an alert flood must not cost a settings read per event; every change of
        # the config is announced (ConfigChanged: the window, REST, the watcher for other processes)
        self._settings: dict[str, Any] | None = None

    def _current(self) -> dict[str, Any]:
        if self._settings is None:
            self._settings = self.settings()
        return self._settings

    def _forget_settings(self, _event: ConfigChanged) -> None:
        self._settings = None

    async def start(self) -> None:
        self._unsubscribe.append(self.bus.subscribe(ConfigChanged, self._forget_settings))
        for kind in (OrderFilled, OrderUpdated, AlertRejected, AlertUnrouted, RequestRefused, Notified):
            self._unsubscribe.append(self.bus.subscribe(kind, self.on_event))

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._flush()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=1.0)
        if self._session is not None:
            await self._session.close()

    def enabled(self, settings: dict[str, Any]) -> list[str]:
        wanted = {"telegram": settings["telegram_enabled"] and bool(settings["telegram_chat_id"]),
                  "discord": settings["discord_enabled"]}
        return [name for name, on in wanted.items() if on]

    def on_event(self, event: Any) -> None:
        line = chat_line(event)
        if line is None:
            return
        settings = self._current()
        if not settings.get(SWITCHES[line.kind], False):
            return
        channels = self.enabled(settings)
        for name in channels:
            self.channels[name].pending.append(line)
        if channels:
            self._schedule(self.batch_s)

    def _schedule(self, delay: float) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(delay, self._flush)

    def _flush(self) -> None:
        self._timer = None
        now, later = time.monotonic(), []
        for channel in self.channels.values():
            if not channel.pending:
                continue
            wait = channel.wait_s(now)
            if wait > 0:  # over the limit: the lines wait and go out summed in one later message
                later.append(wait)
                continue
            lines, channel.pending = channel.pending, []
            channel.sent_at.append(now)
            task = asyncio.ensure_future(self._send(channel, lines))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if later:
            self._schedule(min(later))

    async def _send(self, channel: ChatChannel, lines: list[ChatLine]) -> bool:
        settings = self._current()
        text = compose(lines, LIMITS[channel.name])
        import aiohttp

        try:
            if channel.name == "telegram":
                status, retry = await self._telegram(settings, text)
            else:
                status, retry = await self._discord(text)
        except LookupError as exc:  # no secret: nothing to retry until the trader sets it
            status, retry = str(exc), None
        except (OSError, asyncio.TimeoutError, aiohttp.ClientError) as exc:
            status, retry = type(exc).__name__, 0.0  # never the exception's text: it may hold the URL
        if status in (200, 204):
            channel.sent, channel.last_error = channel.sent + 1, None
            return True
        channel.last_error = f"{channel.name}: {status}"
        if retry is None:  # refused (a wrong token, a deleted webhook): sending these again would not help
            log.warning("chat message to %s refused (%s); %d lines dropped", channel.name, status, len(lines))
            return False
        log.warning("chat message to %s not sent (%s); its %d lines go with the next one", channel.name, status,
                    len(lines))
        channel.pending[:0] = lines  # kept, in order, before what arrived meanwhile
        del channel.pending[:-MAX_PENDING]
        channel.retry_at = time.monotonic() + max(retry, self.batch_s * 5)
        self._schedule(max(retry, self.batch_s * 5))
        return False

    async def _post(self, url: str, body: dict) -> tuple[int, float | None]:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        async with self._session.post(url, json=body) as response:
            retry = 0.0 if response.status >= 500 else None  # the service's trouble: try again later
            if response.status == 429:
                try:
                    answer = await response.json(content_type=None)
                    retry = float(answer.get("retry_after") or (answer.get("parameters") or {}).get("retry_after"))
                except (ValueError, TypeError, AttributeError):
                    retry = float(response.headers.get("Retry-After", 5) or 5)
            return response.status, retry

    async def _telegram(self, settings: dict[str, Any], text: str) -> tuple[int | str, float | None]:
        token = await asyncio.to_thread(self.secrets.get, TELEGRAM_TOKEN)
        if token is None:
            raise LookupError(f"no {TELEGRAM_TOKEN} in the keyring")
        url = f"{settings['telegram_api_url'].rstrip('/')}/bot{token.reveal()}/sendMessage"
        return await self._post(url, {"chat_id": settings["telegram_chat_id"], "text": text,
                                      "disable_web_page_preview": True})

    async def _discord(self, text: str) -> tuple[int | str, float | None]:
        url = await asyncio.to_thread(self.secrets.get, DISCORD_URL)
        if url is None:
            raise LookupError(f"no {DISCORD_URL} in the keyring")
        # no @everyone or role pings from a message's text
        return await self._post(url.reveal(), {"content": text, "allowed_mentions": {"parse": []}})
