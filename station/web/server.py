"""The HTTP receiver: one aiohttp application inside Station's event loop.

Capabilities add their routes (webhook, REST API, Socket.IO) to `receiver.app`
before `start()`. `GET /health` answers as soon as the receiver listens,
before any broker is connected.

Every answer is JSON (CONTRACT.md), also the ones aiohttp makes itself: its HTTP
parser's refusals (`JsonRequestHandler.handle_error`), the router's 404/405 and any
other error response (`json_errors`), and what the application refuses before its
middlewares run (`json_before_middlewares`: an unknown `Expect:`). A connection must send its request headers
within `CONNECTION_TIMEOUT_S` and is closed after as long idle; past
`max_connections` open connections a new one is closed at once, with one log line
a minute, so slow or idle peers cannot take the descriptors alerts need.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from typing import Any, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler, RequestPayloadError

from station import __version__
from station.logs import EveryMinute

log = logging.getLogger("station.web")

CONNECTION_TIMEOUT_S = 15.0  # to send complete request headers, and the longest a keep-alive connection idles
MAX_CONNECTIONS = 2048
DESCRIPTOR_RESERVE = 256  # kept free for the database, logs, brokers and feeds

SHUTDOWN_GRACE_S = 1.0  # in-flight requests get this long to finish when Station stops
CANCEL_GRACE_S = 0.3  # then what still runs is cancelled, and given this long to unwind
LONG_LIVED = "/socket.io/"  # websockets and long polls: closed by their component, not waited for


class ReceiverError(RuntimeError):
    """The receiver could not start (port taken, address not available)."""


def check_can_listen(host: str, port: int) -> None:
    """ReceiverError now if host:port cannot be listened on, before anything starts (one clear line).

    Port 0 (any free port) is probed too: the host may still be one this machine cannot listen on.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in infos:
            with socket.socket(family, kind, proto) as probe:
                if os.name != "nt":  # as asyncio's server does, so a port in TIME_WAIT is not "taken"
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
    except OSError as exc:
        raise ReceiverError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def error_body(status: int, message: str) -> bytes:
    """`{"status": "error", "message": …}` as bytes."""
    return json.dumps({"status": "error", "message": message}).encode()


def raise_descriptor_limit() -> int:
    """Lift the soft limit on open files to the hard one (where the OS has one); the limit now in force."""
    try:
        import resource
    except ImportError:  # Windows: no per-process descriptor limit of this kind
        return MAX_CONNECTIONS + DESCRIPTOR_RESERVE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


class JsonRequestHandler(RequestHandler):
    """aiohttp's connection handler, answering its own refusals as JSON and capping connections."""

    max_connections = MAX_CONNECTIONS
    _over = EveryMinute(log, logging.WARNING)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.opened_at = time.monotonic()
        super().connection_made(transport)
        connections = self._manager.connections if self._manager is not None else []
        if len(connections) <= self.max_connections:
            return
        # Full: make room by closing the connection idle longest (no request being handled: half-sent
        # headers or keep-alive); only if every one is busy is the newcomer turned away.
        idle = [c for c in connections if c is not self and not getattr(c, "_request_in_progress", True)]
        victim = min(idle, key=lambda c: getattr(c, "opened_at", 0.0), default=self)
        self._over.say("more than %d connections open: closing the one idle longest (slow or idle clients?)",
                       self.max_connections)
        victim.force_close()

    def log_exception(self, *args, **kw) -> None:
        # After an early answer (401, 403, 404, …) aiohttp reads the rest of the body to drop it; a body it cannot
        # decode (bad gzip, bad chunks) is the sender's problem: no traceback in our log
        exc = kw.get("exc_info")
        if isinstance(exc, (RequestPayloadError, HttpProcessingError)):
            self.logger.debug("dropped the unreadable rest of a request's body: %s", " ".join(str(exc).split())[:200])
            return
        super().log_exception(*args, **kw)

    def handle_error(self, request, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if status >= 500:
            self.log_exception("error handling a request from %s", request.remote, exc_info=exc)
        else:  # malformed requests are the sender's problem: no traceback in our log
            self.logger.debug("refused a malformed request from %s: %s", request.remote, message or exc)
        if request.writer.output_size > 0:
            raise ConnectionError("the answer was sent already; the connection is closed")
        text = "internal error (see Station's log)" if status >= 500 else f"malformed request: {message or exc}"
        response = web.Response(status=status, body=error_body(status, text), content_type="application/json")
        response.force_close()
        return response


class _JsonServer(web.Server):
    def __call__(self) -> RequestHandler:
        return JsonRequestHandler(self, loop=self._loop, **self._kwargs)


class _Runner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _JsonServer  # the same server, making JSON-answering connection handlers
        server.request_handler = json_before_middlewares(server.request_handler)
        return server


def json_before_middlewares(handler):
    """The application's handler, its refusals made before any middleware runs (a 417 for an `Expect:` it does
    not know) answered as JSON like every other."""

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return web.Response(status=exc.status, body=error_body(exc.status, (exc.text or exc.reason)[:200]),
                                content_type="application/json")

    return handle


@web.middleware
async def json_errors(request: web.Request, handler):
    """Error answers as JSON: the router's 404/405, aiohttp's 413, and any text error a handler returns."""
    try:
        response = await handler(request)
    except (RequestPayloadError, HttpProcessingError) as exc:  # e.g. Content-Encoding: gzip on a plain body
        return unreadable_body(request, exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.reason if exc.status != 404 else f"nothing at {request.path[:200]}"
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after", "www-authenticate")}
        response = web.Response(status=exc.status, body=error_body(exc.status, message),
                                content_type="application/json", headers=headers)
        if exc.status == 413:  # the rest of a body too large is not read: answer and close
            request.content.feed_eof()
            response.force_close()
        return response
    if response.status >= 400 and isinstance(response, web.Response) and response.content_type != "application/json":
        text = response.text if response.body is not None and response.charset is not None else ""
        response = web.Response(status=response.status, content_type="application/json",
                                body=error_body(response.status, (text or response.reason or "error").strip()[:500]),
                                headers={k: v for k, v in response.headers.items() if k.lower() == "allow"})
    return response


def unreadable_body(request: web.Request, exc: BaseException) -> web.Response:
    """400 for a body aiohttp cannot decode; the connection closes after it, the rest of that body unread."""
    request.content.feed_eof()  # else aiohttp reads on after the answer, meets the error again, logs a traceback
    message = " ".join(str(getattr(exc, "message", None) or exc).split())[:200]
    response = web.Response(status=400, body=error_body(400, f"unreadable body: {message}"),
                            content_type="application/json")
    response.force_close()
    return response


class Receiver:
    """Owns the aiohttp application, its runner and listening socket."""

    def __init__(self, host: str, port: int, *, status: Callable[[], dict[str, Any]] | None = None,
                 middlewares: tuple = ()) -> None:
        self.host, self.port = host, port
        self.app = web.Application(client_max_size=64 * 1024,
                                   middlewares=[json_errors, *middlewares, self._count_in_flight])
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
        limit = raise_descriptor_limit()
        JsonRequestHandler.max_connections = max(16, min(MAX_CONNECTIONS, limit - DESCRIPTOR_RESERVE))
        # aiohttp arms its keep-alive timer when a connection opens: a client that never completes its
        # request headers is closed after it, like an idle one (its one timer serves both)
        self._runner = _Runner(self.app, access_log=None, shutdown_timeout=CANCEL_GRACE_S,
                               handler_cancellation=True, keepalive_timeout=CONNECTION_TIMEOUT_S)
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
