"""The script feed: trades and market data CSVs from external scripts, over REST and Socket.IO.

`POST /api/trading-data` (bearer token, checked by the REST API's middleware; multipart fields or JSON keys
`trades_csv`, `market_data_csv`) and Socket.IO on the same port with the
events of the dashboards scripts were written for: `join_script`,
`join_frontend`, `send_trading_data` (answered `data_received`) and
`trading_update` to frontends. Each upload is checked whole, stored in one
transaction, published as `ScriptDataReceived`, then relayed to frontends.
`GET /api/trading-data?limit=N` lists the uploads newest first, with their rows. The
uploads are stored and read through `queries.ScriptFeedRecorder` and `ScriptFeedQueries`.
Socket.IO clients on the trading PC itself need no token (scripts written for
those dashboards send none); from elsewhere they pass `auth={"token": …}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

from station.bus import Bus
from station.domain.events import MarketDataReceived, ScriptDataReceived
from station.domain.marketdata import MarketDataRow
from station.domain.script_feed import ScriptTrade, ScriptUpload
from station.domain.timeutil import utc_now
from station.logs import EveryMinute
from station.queries import ScriptFeedQueries, ScriptFeedRecorder
from station.web.api.auth import ApiToken
from station.web.guard import AccessGuard, host_name
from station.web.limits import RateLimiter, retry_after_header
from station.web.scripts.rows import CsvRowError, parse_market_data, parse_trades

log = logging.getLogger("station.scriptfeed")

MAX_UPLOAD = 2 * 1024 * 1024
# Per client (its address). A loop sending megabytes back to back must not starve the webhook, which
# shares this event loop and the store's one writer: the bytes are bounded. Small batches are cheap, and
# scripts written for such dashboards send them as often as they like (a row per tick), so their count
# is bounded only against a runaway loop.
UPLOAD_LIMITS = ["50 per second"]
UPLOAD_BYTES = [f"{4 * 1024 * 1024} per minute"]
FIELDS = ("trades_csv", "market_data_csv")
SCRIPTS, FRONTENDS = "script", "frontend"
FAILED_TOKEN_LIMITS = ["10 per minute"]  # wrong Socket.IO tokens per address, as for webhook passphrases


class UploadError(ValueError):
    """An upload was refused; `status` is the HTTP status, `errors` the per-field detail."""

    def __init__(self, message: str, errors: dict[str, Any] | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.errors, self.status = errors or {}, status


def _error_body(message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "message": message, "error": message}
    if errors:
        body["errors"] = errors
    return body


def parse_upload(fields: dict[str, Any]) -> tuple[list[ScriptTrade], list[MarketDataRow]]:
    """Both CSVs checked whole; UploadError names the field and every bad line."""
    present = [f for f in FIELDS if fields.get(f) is not None]
    if not present:
        raise UploadError("send trades_csv and/or market_data_csv", {f: "missing" for f in FIELDS})
    for field in present:
        if not isinstance(fields[field], str):
            raise UploadError(f"{field} must be CSV text", {field: "must be a string of CSV text"})
    problems: dict[str, Any] = {}
    trades: list[ScriptTrade] = []
    bars: list[MarketDataRow] = []
    try:
        trades = parse_trades(fields.get("trades_csv") or "")
    except CsvRowError as exc:
        problems[exc.field] = [{"line": line, "error": why} for line, why in exc.problems]
        message = str(exc)
    try:
        bars = parse_market_data(fields.get("market_data_csv") or "")
    except CsvRowError as exc:
        problems[exc.field] = [{"line": line, "error": why} for line, why in exc.problems]
        message = str(exc) if len(problems) == 1 else message
    if problems:
        raise UploadError(f"nothing applied: {message}", problems)
    return trades, bars


def _number(value) -> int | float | None:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def update_payload(upload: ScriptUpload) -> dict[str, Any]:
    """What frontends receive as `trading_update` (the dashboards' shape, plus `upload_id`)."""
    trades = [{"timestamp": t.timestamp.isoformat(), "symbol": t.symbol, "side": t.side.value,
               "quantity": _number(t.quantity), "price": _number(t.price),
               "profit_loss": _number(t.profit_loss), "strategy": t.strategy} for t in upload.trades]
    bars = [{"timestamp": b.time.isoformat(), "symbol": b.symbol, "open": b.open, "high": b.high,
             "low": b.low, "close": b.close, "volume": b.volume, "rsi": b.rsi,
             "signal_strength": b.signal_strength} for b in upload.bars]
    return {"upload_id": upload.upload_id, "trades": trades, "market_data": bars,
            "timestamp": upload.received_at.isoformat(), "trades_count": len(trades),
            "market_data_count": len(bars)}


class ScriptFeed:
    """Receives script uploads (REST and Socket.IO), stores them, relays them to frontends."""

    name = "script-feed"

    def __init__(self, app: web.Application, recorder: ScriptFeedRecorder, uploads: ScriptFeedQueries, bus: Bus,
                 token: ApiToken, guard: AccessGuard) -> None:
        import socketio

        self.recorder, self.uploads_read = recorder, uploads
        self.bus = bus
        self.token = token
        self.guard = guard
        self.failures = RateLimiter(FAILED_TOKEN_LIMITS)
        self.uploads = RateLimiter(UPLOAD_LIMITS)
        self.upload_bytes = RateLimiter(UPLOAD_BYTES)
        self._parsing = asyncio.Lock()
        app.router.add_post("/api/trading-data", self._post)
        app.router.add_get("/api/trading-data", self._list)
        # async_handlers=False: one client's uploads are applied and answered in the order sent
        self.sio = socketio.AsyncServer(async_mode="aiohttp", max_http_buffer_size=MAX_UPLOAD, async_handlers=False,
                                        logger=False, engineio_logger=False, cors_allowed_origins=self._origin_allowed)
        self.sio.attach(app)
        self._sessions: set[str] = set()
        self._clients: dict[str, str] = {}  # Socket.IO session -> the address it connected from
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        self.sio.on("join_script", self._join(SCRIPTS, "Joined script room"))
        self.sio.on("join_frontend", self._join(FRONTENDS, "Joined frontend room"))
        self.sio.on("send_trading_data", self._socket_upload)
        self.sio.on("ping_server", self._ping)
        self._refused = EveryMinute(log)

    async def start(self) -> None:
        """Nothing to start: the routes live on the receiver."""

    async def closing(self) -> None:
        """Before the receiver stops: close Socket.IO sessions so shutdown does not wait on them."""
        if self.sio.eio.sockets:
            await self.sio.eio.disconnect()  # every Engine.IO session (websocket or polling)
        if getattr(self.sio.eio, "service_task_handle", None) is not None:  # engineio awaits it unchecked
            await self.sio.shutdown()

    async def stop(self) -> None:
        """Nothing left to stop once the receiver is down."""

    async def accept(self, fields: dict[str, Any], source: str, client: str) -> ScriptUpload:
        """Check, store, publish and relay one upload (the path both transports share)."""
        size = sum(len(fields.get(name) or "") for name in FIELDS if isinstance(fields.get(name), str))
        wait = self.uploads.hit(client) or self.upload_bytes.hit(client, max(1, size))
        if wait > 0:
            raise UploadError(f"too many uploads from {client}; retry after {retry_after_header(wait)} s", status=429)
        # parsed in a worker thread, one upload at a time: the loop keeps answering alerts meanwhile
        async with self._parsing:
            trades, bars = await asyncio.to_thread(parse_upload, fields)
        upload = await self.recorder.record(source, trades, bars)
        log.info("script upload %d from %s: %d trades, %d market data rows",
                 upload.upload_id, source, len(trades), len(bars))
        self.bus.publish(ScriptDataReceived(upload))
        if upload.bars:  # into the bar builders and charts, like any feed
            self.bus.publish(MarketDataReceived(upload.bars, source))
        await self.sio.emit("trading_update", update_payload(upload), room=FRONTENDS)
        return upload

    # ---- REST --------------------------------------------------------------------------------

    async def _post(self, request: web.Request) -> web.Response:
        try:
            fields = await _read_fields(request)
            client = self.guard.client(request.remote, request.headers)
            upload = await self.accept(fields, f"rest:{client}", client)
        except UploadError as exc:
            return web.json_response(_error_body(str(exc), exc.errors), status=exc.status)
        return web.json_response({"status": "success", "upload_id": upload.upload_id,
                                  "trades_processed": len(upload.trades),
                                  "market_data_processed": len(upload.bars)})

    async def _list(self, request: web.Request) -> web.Response:
        from station.web.api.routes import limit_of

        uploads = self.uploads_read.recent_uploads(limit_of(request))
        return web.json_response({"uploads": [{"source": u.source, **update_payload(u)} for u in uploads]})

    # ---- Socket.IO ---------------------------------------------------------------------------

    async def _connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        import socketio

        request = environ.get("aiohttp.request")
        remote = request.remote if request is not None else None
        client = self.guard.client(remote, request.headers) if request is not None else sid
        if request is None or not self.guard.is_local(remote, request.headers):
            address = client if request is not None else "unknown"
            if self.failures.retry_after(address) > 0:
                raise socketio.exceptions.ConnectionRefusedError("too many failed tokens from this address; wait")
            offered = auth.get("token") if isinstance(auth, dict) else None
            token = await self.token.current()
            if token is None or not token.matches(offered):
                self.failures.hit(address)
                self._refused.say("Socket.IO connection from %s refused: no valid token", address)
                raise socketio.exceptions.ConnectionRefusedError("unauthorized: pass auth={'token': <api-token>}")
        self._sessions.add(sid)
        self._clients[sid] = client
        await self.sio.emit("status", {"msg": "Connected to trading data server"}, to=sid)

    def _origin_allowed(self, origin: str | None, environ: dict | None = None) -> bool:
        """Engine.IO's Origin check is the guard's: a page from any loopback origin (a frontend on another local
        port, or the dashboard opened as localhost but reaching 127.0.0.1) or from the tunnel's host; Engine.IO's
        own default took only the one origin equal to the Host header."""
        return origin is None or self.guard.name_allowed(host_name(origin))

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        self._sessions.discard(sid)
        self._clients.pop(sid, None)
        self._release_long_poll(sid)

    def _release_long_poll(self, sid: str) -> None:
        """Answer a long-polling client's pending GET now that it is leaving.

        A script using the sync python-socketio client without websocket-client polls; its
        `disconnect()` waits for that GET, which Engine.IO would hold until the next ping
        (25 s). A NOOP ends the GET, so the script exits at once.
        """
        from engineio import packet

        socket = self.sio.eio.sockets.get(self.sio.manager.eio_sid_from_sid(sid, "/"))
        if socket is not None and not socket.upgraded:
            socket.queue.put_nowait(packet.Packet(packet.NOOP))

    def _join(self, room: str, message: str):
        async def join(sid: str, data: Any = None) -> None:
            await self.sio.enter_room(sid, room)
            await self.sio.emit("status", {"msg": message}, to=sid)
        return join

    async def _socket_upload(self, sid: str, data: Any = None) -> None:
        try:
            if not isinstance(data, dict):
                raise UploadError("send_trading_data takes an object with trades_csv and/or market_data_csv")
            upload = await self.accept(data, f"socketio:{sid}", self._clients.get(sid, sid))
        except UploadError as exc:
            await self.sio.emit("data_received", _error_body(str(exc), exc.errors), to=sid)
            return
        await self.sio.emit("data_received", {"status": "success", "upload_id": upload.upload_id,
                                              "trades_processed": len(upload.trades),
                                              "market_data_processed": len(upload.bars)}, to=sid)

    async def _ping(self, sid: str, data: Any = None) -> None:
        await self.sio.emit("pong", {"timestamp": utc_now().isoformat()}, to=sid)


async def _read_limited(read_chunk, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        chunk = await read_chunk(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise UploadError(f"upload larger than {limit // (1024 * 1024)} MiB", status=413)
        chunks.append(chunk)


async def _read_fields(request: web.Request) -> dict[str, Any]:
    """The upload's fields from multipart (fields or files), a urlencoded form, or a JSON object."""
    if request.content_type.startswith("multipart/"):
        fields: dict[str, Any] = {}
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if part.name in FIELDS:
                    raw = await _read_limited(part.read_chunk, MAX_UPLOAD)
                    fields[part.name] = raw.decode(part.get_charset("utf-8"))
                else:
                    await part.release()
        except UploadError:
            raise
        except (ValueError, LookupError, UnicodeDecodeError, AssertionError) as exc:
            raise UploadError(f"unreadable multipart body: {exc}") from None
        return fields
    raw = await _read_limited(request.content.read, MAX_UPLOAD)
    if request.content_type == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qs

        try:
            form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError as exc:
            raise UploadError(f"unreadable form body: {exc}") from None
        return {name: values[-1] for name, values in form.items()}
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UploadError(f"body is neither multipart nor a JSON object: {exc}") from None
    if not isinstance(document, dict):
        raise UploadError("the JSON body must be an object with trades_csv and/or market_data_csv")
    return document
