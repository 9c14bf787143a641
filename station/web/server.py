"""The HTTP receiver: one aiohttp application inside Station's event loop.

Capabilities add their routes (webhook, REST API, Socket.IO) to `receiver.app`
before `start()`. `GET /health` answers as soon as the receiver listens,
before any broker is connected.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from typing import Any, Callable

from aiohttp import web

from station import __version__

log = logging.getLogger("station.web")

SHUTDOWN_GRACE_S = 1.0  # in-flight requests get this long to finish when Station stops
CANCEL_GRACE_S = 0.3  # then what still runs is cancelled, and given this long to unwind
LONG_LIVED = "/socket.io/"  # websockets and long polls: closed by their component, not waited for


class ReceiverError(RuntimeError):
    """The receiver could not start (port taken, address not available)."""


def check_can_listen(host: str, port: int) -> None:
    """ReceiverError now if host:port cannot be listened on, before anything starts (one clear line)."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in infos:
            with socket.socket(family, kind, proto) as probe:
                if os.name != "nt":  # as asyncio's server does, so a port in TIME_WAIT is not "taken"
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
    except OSError as exc:
        raise ReceiverError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


class Receiver:
    """Owns the aiohttp application, its runner and listening socket."""

    def __init__(self, host: str, port: int, *, status: Callable[[], dict[str, Any]] | None = None) -> None:
        self.host, self.port = host, port
        self.app = web.Application(client_max_size=64 * 1024, middlewares=[self._count_in_flight])
        self.app.router.add_get("/health", self._health)
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._status = status or (lambda: {})
        self._runner: web.AppRunner | None = None
        self.started_at: float | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Listen on host:port; port 0 picks a free port (then `self.port` is the real one)."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=CANCEL_GRACE_S,
                                     handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise ReceiverError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from None
        sockets = [s for s in (site._server.sockets if site._server else [])]
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self.started_at = time.monotonic()
        log.info("receiver listening on %s", self.url)

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (up to a second), close."""
        if self._runner is not None:
            # aiohttp's cleanup stops reading from every connection at once, so a request whose
            # body is still arriving would be lost: stop listening, then wait for those first
            for site in list(self._runner.sites):
                await site.stop()
            if self._in_flight:
                try:
                    await asyncio.wait_for(self._idle.wait(), SHUTDOWN_GRACE_S)
                except asyncio.TimeoutError:
                    log.warning("%d requests still running at shutdown", self._in_flight)
            await self._runner.cleanup()
            self._runner = None
            log.info("receiver stopped")

    @web.middleware
    async def _count_in_flight(self, request: web.Request, handler):
        if request.path.startswith(LONG_LIVED):
            return await handler(request)
        self._in_flight += 1
        self._idle.clear()
        try:
            return await handler(request)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _health(self, request: web.Request) -> web.Response:
        uptime = 0.0 if self.started_at is None else time.monotonic() - self.started_at
        return web.json_response({"status": "ok", "version": __version__, "uptime_s": round(uptime, 3),
                                  **self._status()})
