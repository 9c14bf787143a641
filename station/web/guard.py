"""Who may reach the API, Socket.IO and the dashboard: local or remote, and which Host/Origin names.

CONTRACT.md ("REST API and scripts"): a request counts as local only when it comes
from loopback and, with "behind a tunnel" on, carries no forwarding header
(`X-Forwarded-For`, `Forwarded`, `CF-Connecting-IP`): behind cloudflared every
request arrives from 127.0.0.1, and only the tunnel adds those headers. On `/api`,
Socket.IO and the dashboard, a request whose `Host` or `Origin` names neither
loopback nor the configured tunnel host is refused with 403, so a page on another
site cannot reach Station through a DNS name rebound to 127.0.0.1. The webhook is
not held to this: an alert is never lost to a tunnel address not pasted yet.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from aiohttp import web

from station.web.limits import is_loopback

log = logging.getLogger("station.web")

FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "CF-Connecting-IP")
GUARDED_PREFIXES = ("/api", "/socket.io")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


@dataclass(frozen=True)
class AccessSettings:
    """The `webhook` settings the guard reads: behind a tunnel? which public host?"""

    behind_tunnel: bool = False
    tunnel_host: str | None = None

    @classmethod
    def of(cls, webhook: Mapping[str, Any]) -> "AccessSettings":
        url = webhook.get("public_url")
        host = urlsplit(url).hostname if url else None
        return cls(bool(webhook.get("behind_tunnel")), host.lower() if host else None)


def host_name(value: str) -> str | None:
    """The host part of a `Host` header or an `Origin` URL, lower-case, without port or brackets."""
    value = value.strip()
    if not value or value == "null":
        return None
    if "://" not in value:
        value = f"http://{value}"
    try:
        host = urlsplit(value).hostname
    except ValueError:
        return None
    return host.lower() if host else None


class AccessGuard:
    """Decides local/remote and checks Host/Origin, from the settings in force (re-read on change)."""

    def __init__(self, settings: Callable[[], AccessSettings], bind_host: str = "127.0.0.1") -> None:
        self._read = settings
        self.settings = AccessSettings()
        # a receiver bound to a named address (not a wildcard) is also reached by that name, e.g. on a LAN
        self._bind_host = None if bind_host in ("", "0.0.0.0", "::") else host_name(bind_host)

    def reload(self, *_: Any) -> None:
        """Re-read the settings (called at start and on every ConfigChanged)."""
        self.settings = self._read()

    def is_local(self, peer: str | None, headers: Mapping[str, str]) -> bool:
        """Loopback, and (behind a tunnel) no forwarding header: a script on this PC."""
        if not is_loopback(peer):
            return False
        return not (self.settings.behind_tunnel and any(h in headers for h in FORWARDING_HEADERS))

    def client(self, peer: str | None, headers: Mapping[str, str]) -> str:
        """Who is asking, for per-client limits: the peer; behind a tunnel (a loopback peer with a forwarding
        header) the client the tunnel names, so one remote sender's failed tokens do not lock out the trader's
        phone, which arrives by the same tunnel. The last X-Forwarded-For entry is the one the tunnel appended (a
        sender cannot forge it, as the webhook reads it); CF-Connecting-IP only where there is none."""
        if self.settings.behind_tunnel and is_loopback(peer):
            named = (headers.get("X-Forwarded-For") or "").rsplit(",", 1)[-1].strip() or \
                (headers.get("CF-Connecting-IP") or "").strip()
            if named:
                return f"tunnel:{named}"
        return peer or "unknown"

    def name_allowed(self, name: str | None) -> bool:
        if name is None:
            return False
        if name in LOOPBACK_NAMES or name == self.settings.tunnel_host or name == self._bind_host:
            return True
        return is_loopback(name)

    def refusal(self, headers: Mapping[str, str]) -> str | None:
        """Why this request's Host or Origin is refused, or None. A missing header is not refused; a repeated one is
        judged by every value (Engine.IO reads them joined, so a foreign second one must not slip past)."""
        for header in ("Host", "Origin"):
            values = headers.getall(header, []) if hasattr(headers, "getall") else [headers.get(header)]
            for value in values:
                if value is not None and not self.name_allowed(host_name(value)):
                    return f"{header} {value[:100]!r} is not this Station (only loopback or the tunnel's host)"
        return None

    def middleware(self):
        """aiohttp middleware: 403 for a foreign Host/Origin on /api, /socket.io and the dashboard."""

        @web.middleware
        async def guard(request: web.Request, handler):
            path = request.path
            if path.startswith(GUARDED_PREFIXES) or path == "/" or path.startswith("/dashboard"):
                why = self.refusal(request.headers)
                if why is not None:
                    log.debug("refused %s %s: %s", request.method, path, why)
                    return web.Response(status=403, content_type="application/json",
                                        text=json.dumps({"status": "error", "message": f"forbidden: {why}"}))
            return await handler(request)

        return guard
