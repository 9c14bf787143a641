"""A Databento live subscription gateway on 127.0.0.1, speaking the real protocol to the real `databento.Live`.

Wire protocol (as the official client expects it): on connect the gateway greets
(`lsg_version=…`) and sends a CRAM challenge (`cram=…`); the client answers
`auth=<sha256(challenge|key)>-<last 5 chars of key>|dataset=…|…`; the gateway says
`success=1|session_id=…` or `success=0|error=…` and hangs up. Then the client sends
subscription lines (`schema=…|stype_in=…|symbols=…|start=…|id=…|is_last=…`) and
`start_session=0`, and the gateway streams DBN: a metadata header, one
SymbolMappingMsg per resolved symbol (an ErrorMsg for symbols it cannot resolve),
replayed records from `start` (intraday replay), then live records as they are
published, with heartbeats when idle.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import secrets
import time
from dataclasses import dataclass, field

import databento_dbn as dbn
import numpy as np
from databento.common import cram

from station.marketdata.databento.write import trade_records

VALID_KEY = "db-LoopbackGatewayTestKey00Ab3dE"  # 32 characters like a real key


@dataclass
class Instrument:
    """A tradable instrument the gateway knows: its id and raw symbol, and the symbols resolving to it."""

    instrument_id: int
    raw_symbol: str
    aliases: tuple[str, ...] = ()


@dataclass
class _Session:
    writer: asyncio.StreamWriter
    dataset: str = ""
    heartbeat_s: float = 30.0
    subscriptions: list[dict] = field(default_factory=list)
    instruments: set[tuple[int, str]] = field(default_factory=set)  # (instrument id, schema) subscribed
    streaming: bool = False
    last_sent: float = 0.0


class LoopbackGateway:
    """The gateway (see the module docstring). `publish` sends a trade to every subscribed session."""

    def __init__(self, instruments: list[Instrument], keys: tuple[str, ...] = (VALID_KEY,),
                 datasets: tuple[str, ...] = ("GLBX.MDP3",)) -> None:
        self.instruments = instruments
        self.keys = keys
        self.datasets = datasets
        self.port = 0
        self.sessions: list[_Session] = []
        self.auth_attempts: list[dict] = []
        self.subscription_log: list[list[dict]] = []  # per authenticated session, what it subscribed
        self.history: list[np.ndarray] = []  # every record ever published (one-record arrays)
        self._sequence = itertools.count(1)
        self._server: asyncio.AbstractServer | None = None
        self._session_ids = itertools.count(1)
        self._handlers: set[asyncio.Task] = set()

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening, drop every session and wait for their handlers to end."""
        if self._server is not None:
            self._server.close()
            self.drop()
            await asyncio.wait_for(asyncio.gather(*self._handlers, return_exceptions=True), 5)
            await self._server.wait_closed()
            self._server = None

    def drop(self) -> None:
        """Cut every connection abruptly (a network drop)."""
        for session in list(self.sessions):
            session.writer.transport.abort()
        self.sessions.clear()

    def publish(self, symbol: str, price: float, size: int = 1, ts_event: int | None = None) -> int:
        """A trade on `symbol`'s instrument, now: recorded for replay and sent to trades subscribers."""
        instrument = self._resolve(symbol)
        ts = ts_event if ts_event is not None else time.time_ns()
        record = trade_records(instrument.instrument_id, np.array([ts]), np.array([price]), np.array([size]))
        record["ts_recv"] = max(ts, time.time_ns())
        record["sequence"] = next(self._sequence)
        self.history.append(record)
        self._broadcast(instrument, "trades", record.tobytes())
        return int(record["ts_recv"][0])

    def publish_bar(self, symbol: str, schema: str, ts_event: int, o: float, h: float, low: float, c: float,
                    volume: int) -> None:
        """An OHLCV record (`ohlcv-1s` / `ohlcv-1m`) to that schema's subscribers."""
        instrument = self._resolve(symbol)
        rtype = {"ohlcv-1s": dbn.RType.OHLCV_1S, "ohlcv-1m": dbn.RType.OHLCV_1M}[schema]
        fixed = [int(round(p * 1e9)) for p in (o, h, low, c)]
        record = dbn.OHLCVMsg(rtype, 1, instrument.instrument_id, ts_event, *fixed, volume)
        self._broadcast(instrument, schema, bytes(record))

    def _broadcast(self, instrument: Instrument, schema: str, data: bytes) -> None:
        for session in self.sessions:
            if session.streaming and (instrument.instrument_id, schema) in session.instruments:
                self._send(session, data)

    # ---- one connection -----------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(writer)
        self._handlers.add(asyncio.current_task())
        try:
            if await self._authenticate(reader, session):
                self.sessions.append(session)
                await self._serve(reader, session)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if session in self.sessions:
                self.sessions.remove(session)
            writer.close()
            self._handlers.discard(asyncio.current_task())

    async def _authenticate(self, reader, session: _Session) -> bool:
        challenge = secrets.token_hex(8)
        session.writer.write(f"lsg_version=0.0.0-loopback\ncram={challenge}\n".encode())
        await session.writer.drain()
        fields = _parse(await reader.readline())
        self.auth_attempts.append(fields)
        auth = fields.get("auth", "")
        bucket = auth.rpartition("-")[2]
        key = next((k for k in self.keys if k.endswith(bucket) and bucket), None)
        expected = cram.get_challenge_response(challenge, key) if key else ""
        if not key or not hmac.compare_digest(auth, expected):
            return await self._refuse(session, "Authentication failed.")
        if fields.get("dataset") not in self.datasets:
            return await self._refuse(session, f"Unknown dataset {fields.get('dataset')!r}.")
        session.dataset = fields["dataset"]
        session.heartbeat_s = float(fields.get("heartbeat_interval_s") or 30)
        session.writer.write(f"success=1|session_id={next(self._session_ids)}\n".encode())
        await session.writer.drain()
        return True

    async def _refuse(self, session: _Session, error: str) -> bool:
        session.writer.write(f"success=0|error={error}\n".encode())
        await session.writer.drain()
        return False

    async def _serve(self, reader, session: _Session) -> None:
        while True:
            line = await reader.readline()
            if not line:
                return
            fields = _parse(line)
            if "start_session" in fields:
                break
            session.subscriptions.append(fields)
        self.subscription_log.append(session.subscriptions)
        self._start_stream(session)
        beat = asyncio.create_task(self._heartbeats(session))
        try:
            while await reader.read(4096):  # the client sends nothing more; wait for its goodbye
                pass
        finally:
            beat.cancel()

    def _start_stream(self, session: _Session) -> None:
        now = time.time_ns()
        header = dbn.Metadata(session.dataset, now, None, dbn.SType.INSTRUMENT_ID, None, ts_out=False)
        self._send(session, bytes(header))
        replay_from = None
        for sub in session.subscriptions:
            if sub.get("start"):
                start = int(sub["start"])
                replay_from = start if replay_from is None else min(replay_from, start)
            stype = dbn.SType(sub["stype_in"])
            for symbol in filter(None, sub.get("symbols", "").split(",")):
                matches = [i for i in self.instruments if symbol == i.raw_symbol or symbol in i.aliases]
                if not matches:
                    self._send(session, bytes(dbn.ErrorMsg(now, f"Failed to resolve symbol {symbol}",
                                                           code=dbn.ErrorCode.SYMBOL_RESOLUTION_FAILED)))
                for instrument in matches:  # a parent (ES.FUT) resolves to every contract it covers
                    session.instruments.add((instrument.instrument_id, sub["schema"]))
                    self._send(session, bytes(dbn.SymbolMappingMsg(
                        1, instrument.instrument_id, now, stype, symbol, dbn.SType.RAW_SYMBOL, instrument.raw_symbol,
                        now, now + 86400 * 10**9)))
        if replay_from is not None:
            for record in self.history:
                if record["ts_recv"][0] >= replay_from and (int(record["instrument_id"][0]), "trades") in session.instruments:
                    self._send(session, record.tobytes())
        session.streaming = True

    async def _heartbeats(self, session: _Session) -> None:
        while True:
            await asyncio.sleep(min(1.0, session.heartbeat_s / 5))
            if time.monotonic() - session.last_sent >= session.heartbeat_s:
                self._send(session, bytes(dbn.SystemMsg(time.time_ns(), "Heartbeat", dbn.SystemCode.HEARTBEAT)))

    def _send(self, session: _Session, data: bytes) -> None:
        if not session.writer.is_closing():
            session.writer.write(data)
            session.last_sent = time.monotonic()

    def _resolve(self, symbol: str) -> Instrument:
        for instrument in self.instruments:
            if symbol == instrument.raw_symbol or symbol in instrument.aliases:
                return instrument
        raise KeyError(symbol)


def _parse(line: bytes) -> dict:
    text = line.decode("utf-8").strip()
    return dict(part.partition("=")[::2] for part in text.split("|") if part)
