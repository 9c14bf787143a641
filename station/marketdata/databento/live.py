"""Databento live data through the official `databento.Live` client, kept connected.

The key is read from the keyring (`databento-key`) at every connection attempt, so
a key set or fixed while Station runs is picked up on the next try. `Live.subscribe`
blocks until the gateway has authenticated us, so it runs in a worker thread; the
client then calls us on its own thread (see `live_inbox`). When the session ends
for any reason but our stop, we reconnect with backoff and subscribe again with
`start` at the last record received: the gateway's intraday replay fills the gap
and the inbox drops what we already had. A rejected key lights the feed red and is
retried slowly. No trade for `stale_after_s` while connected lights it amber.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from station.backoff import Backoff
from station.bus import Bus
from station.domain.credentials import set_hint
from station.domain.enums import ConnectionState
from station.domain.events import ConnectionChanged, ErrorRaised
from station.marketdata.hub import BarHub
from station.marketdata.databento.inbox import Delivery, LiveInbox
from station.marketdata.bars.sessions import session_for

log = logging.getLogger("station.marketdata")

KEY_NAME = "databento-key"
NO_KEY = f"no Databento key: {set_hint(KEY_NAME)}"
RECONNECT_INITIAL_S, RECONNECT_MAX_S = 1.0, 30.0
BAD_KEY_RETRY_S = 60.0
REPLAY_WINDOW_NS = 23 * 3600 * 10**9  # the gateway replays up to 24 h back
CLOSE_GRACE_NS = 250_000_000  # bars close by the clock this long after their end (late prints)


@dataclass(frozen=True)
class LiveSubscription:
    """One `Live.subscribe` call: dataset, schema, symbols and their symbology."""

    dataset: str
    schema: str
    symbols: tuple[str, ...]
    stype_in: str = "raw_symbol"


class DatabentoLive:
    """The live feed component (light name `databento`, kind `feed`)."""

    name = "databento"

    def __init__(self, bus: Bus, hub: BarHub, secrets, subscriptions: list[LiveSubscription], *,
                 gateway: str | None = None, port: int = 13000, warmup: str = "session",
                 stale_after_s: float = 30.0, heartbeat_interval_s: int | None = None,
                 backoff: Backoff | None = None, bad_key_retry_s: float = BAD_KEY_RETRY_S) -> None:
        self.bus = bus
        self.hub = hub
        self.secrets = secrets
        self.subscriptions = list(subscriptions)
        self.gateway, self.port = gateway, port
        self.warmup = warmup
        self.stale_after_s = stale_after_s
        self.heartbeat_interval_s = heartbeat_interval_s
        self.backoff = backoff or Backoff(RECONNECT_INITIAL_S, RECONNECT_MAX_S)
        self.bad_key_retry_s = bad_key_retry_s
        self.state = ConnectionState.DISCONNECTED
        self.connections = 0  # successful sessions so far
        self.inbox: LiveInbox | None = None
        self._client = None
        self._task: asyncio.Task | None = None
        self._clock: asyncio.Task | None = None
        self._stopping = False
        self._detail = ""
        self._connected_at = 0.0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._stopping = False
        self.inbox = LiveInbox(loop, self._on_delivery)
        self._task = loop.create_task(self._run())
        self._clock = loop.create_task(self._watch())

    async def stop(self) -> None:
        self._stopping = True
        self._terminate()
        for task in (self._task, self._clock):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._light(ConnectionState.DISCONNECTED, "stopped")

    # ---- connection ---------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            key = await asyncio.to_thread(self.secrets.get, KEY_NAME)
            if key is None:
                self._light(ConnectionState.DISCONNECTED, NO_KEY)
                await asyncio.sleep(self.bad_key_retry_s)
                continue
            if self.state is not ConnectionState.ERROR:  # a rejected key stays red until it works
                self._light(ConnectionState.CONNECTING, self._target())
            sessions = self.connections
            try:
                await self._session(key.reveal())
                reason = "the gateway closed the session"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # BentoError, ValueError, OSError: all mean "not connected now"
                reason = str(exc) or type(exc).__name__
                if _is_auth_failure(reason):
                    await self._rejected(reason)
                    continue
            finally:
                self._terminate()
            if self._stopping:
                return
            if self.connections > sessions:  # the session held: start over at the shortest wait
                self.backoff.reset()
            delay = self.backoff.next()
            log.warning("databento live: %s; reconnecting in %.1f s", reason, delay)
            self._light(ConnectionState.DISCONNECTED, f"{reason}; reconnecting in {delay:.0f} s")
            await asyncio.sleep(delay)

    async def _rejected(self, reason: str) -> None:
        message = f"Databento rejected the key ({KEY_NAME}): {reason}"
        if self.state is not ConnectionState.ERROR:  # said once, not at every retry
            log.error("%s", message)
            self.bus.publish(ErrorRaised(source="databento", message=message))
        self._light(ConnectionState.ERROR, f"{message}; retrying in {self.bad_key_retry_s:.0f} s")
        await asyncio.sleep(self.bad_key_retry_s)

    async def _session(self, key: str) -> None:
        import databento

        client = databento.Live(key=key, gateway=self.gateway, port=self.port,
                                heartbeat_interval_s=self.heartbeat_interval_s)
        self._client = client
        client.add_callback(self.inbox.on_record, lambda exc: log.error("databento callback failed: %s", exc))
        await asyncio.to_thread(self._subscribe, client, self._replay_start())
        client.start()
        self.connections += 1
        self._light(ConnectionState.CONNECTED, self._target())
        await client.wait_for_close()

    def _subscribe(self, client, start: int | None) -> None:
        """Blocking: connects and authenticates on the first call (worker thread)."""
        for sub in self.subscriptions:
            client.subscribe(dataset=sub.dataset, schema=sub.schema, symbols=list(sub.symbols),
                             stype_in=sub.stype_in, start=start)

    def _replay_start(self) -> int | None:
        """Where the gateway should replay from: after a drop, the last record; at first, the warm-up."""
        now = time.time_ns()
        if self.inbox.last_recv:
            start = self.inbox.last_recv
        elif self.warmup == "session" and self.subscriptions:
            start = min(self._session_open(s, now) for sub in self.subscriptions for s in sub.symbols)
        else:
            return None
        return max(start, now - REPLAY_WINDOW_NS)

    @staticmethod
    def _session_open(symbol: str, now_ns: int) -> int:
        session = session_for(symbol)
        opens = [opened for opened, _ in session.sessions(now_ns - 4 * 86400 * 10**9, now_ns) if opened <= now_ns]
        return opens[-1] if opens else now_ns

    def _terminate(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.terminate()
            except (ValueError, RuntimeError):
                pass  # never connected, or already closed

    def _target(self) -> str:
        symbols = ", ".join(s for sub in self.subscriptions for s in sub.symbols)
        datasets = ", ".join(sorted({f"{sub.dataset} {sub.schema}" for sub in self.subscriptions}))
        return f"{datasets}: {symbols}"

    # ---- data and health ----------------------------------------------------------------------

    def _on_delivery(self, delivery: Delivery) -> None:
        for message in delivery.messages:
            log.warning("databento live: %s", message)
            self.bus.publish(ErrorRaised(source="databento", message=message))
        for batch in (delivery.bars, delivery.trades):
            if batch is not None:
                self.hub.ingest(batch)
        if self.state is ConnectionState.STALE and (delivery.trades or delivery.bars):
            self._light(ConnectionState.CONNECTED, self._target())

    async def _watch(self) -> None:
        """Once a second: close bars whose time is over, and say when the data went quiet."""
        while True:
            await asyncio.sleep(1.0)
            self.hub.advance(time.time_ns() - CLOSE_GRACE_NS)
            if self.state is ConnectionState.CONNECTED and self.inbox is not None:
                quiet = time.monotonic() - max(self.inbox.last_data_at, self._connected_at)
                if quiet >= self.stale_after_s:
                    self._light(ConnectionState.STALE, f"no trades for {self.stale_after_s:g} s — {self._target()}")

    def _light(self, state: ConnectionState, detail: str) -> None:
        if state is ConnectionState.CONNECTED:
            self._connected_at = time.monotonic()
        if (state, detail) == (self.state, self._detail):
            return
        self.state, self._detail = state, detail
        self.bus.publish(ConnectionChanged(self.name, "feed", state, detail))


def _is_auth_failure(reason: str) -> bool:
    text = reason.lower()
    return "auth" in text or "api key" in text or "invalid key" in text
