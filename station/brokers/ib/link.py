"""The connection to TWS/IB Gateway: connect, reconcile through a callback, watch, reconnect with backoff.

States, published as `ConnectionChanged(name, "broker", …)` with a detail the
trader can act on: CONNECTING, CONNECTED (after reconciling), STALE (TWS is up
but lost IB's servers: error 1100), DISCONNECTED (retrying), ERROR (retrying, but
something needs the trader: a client id in use, an account TWS does not manage).
A heartbeat (`reqCurrentTime`) finds a link that died without a goodbye.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from typing import Awaitable, Callable

from station.brokers.ib import parsing
from station.brokers.ib.config import IBSettings
from station.bus import Bus
from station.domain.enums import ConnectionState
from station.domain.events import ConnectionChanged

log = logging.getLogger("station.brokers.ib")


class _ConnectNoise(logging.Filter):
    """Drops ib_async's own lines about failed connects: the link reports each state once, with the reason."""

    NOISE = ("API connection failed", "Make sure API port", "Peer closed connection", "Disconnecting")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.NOISE)


logging.getLogger("ib_async.client").addFilter(_ConnectNoise())

OnConnected = Callable[..., Awaitable[str]]


class AccountError(ConnectionError):
    """The configured account is not one this TWS login manages."""


class IBLink:
    """Keeps one ib_async client connected to one TWS for one broker."""

    def __init__(self, name: str, settings: IBSettings, bus: Bus, *, on_connected: OnConnected,
                 on_error: Callable[[int, int, str], None]) -> None:
        self.name, self.settings, self.bus = name, settings, bus
        self.state = ConnectionState.DISCONNECTED
        self.detail = "not started"
        self.ib = None  # ib_async.IB, made in the background task (importing ib_async there keeps start-up lean)
        self.reconciling = False
        self.connect_ms: list[float] = []
        self._on_connected = on_connected
        self._on_error = on_error
        self._task: asyncio.Task | None = None
        self._lost = asyncio.Event()
        self._last_code = 0

    # ---- lifetime -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"ib-link-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._drop()
        self._set(ConnectionState.DISCONNECTED, "stopped")

    def _set(self, state: ConnectionState, detail: str) -> None:
        if (state, detail) == (self.state, self.detail):
            return
        level = logging.DEBUG if state is self.state else logging.WARNING if state is ConnectionState.ERROR else logging.INFO
        self.state, self.detail = state, detail
        log.log(level, "%s: %s — %s", self.name, state, detail)
        self.bus.publish(ConnectionChanged(self.name, "broker", state, detail))

    def _drop(self) -> None:
        if self.ib is not None and self.ib.isConnected():
            self.ib.disconnect()

    # ---- the loop -------------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = self.settings.backoff()
        while True:
            attempt = backoff.attempts
            where = f"{self.settings.address} as client {self.settings.client_id}"
            if attempt == 0:
                self._set(ConnectionState.CONNECTING, f"connecting to {where}")
            else:  # retries keep the last verdict on screen (no flicker every few seconds)
                self._set(self.state, f"{self.detail.split('; retrying')[0]}; connecting again (attempt {attempt + 1})")
            try:
                summary = await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure means: wait, then try again
                self._drop()
                state, why = self._explain(exc)
                delay = backoff.next()
                self._set(state, f"{why}; retrying in {delay:.1f} s")
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            self._set(ConnectionState.CONNECTED, summary)
            await self._watch()
            self._drop()
            self._set(ConnectionState.DISCONNECTED, "lost the connection to TWS; reconnecting")
            await asyncio.sleep(backoff.next())
            backoff.reset()  # a fresh start: the first attempt after a drop is announced as connecting

    async def _connect(self) -> str:
        if self.ib is None:
            await asyncio.to_thread(importlib.import_module, "ib_async")  # ~0.3 s of imports, off the loop
            self.ib = self._make_ib()
        self._lost = asyncio.Event()
        self._last_code = 0
        started = time.perf_counter()
        self.reconciling = True
        try:
            await self.ib.connectAsync(self.settings.host, self.settings.port, clientId=self.settings.client_id,
                                       timeout=self.settings.connect_timeout_s, account=self.settings.account or "",
                                       raiseSyncErrors=True)
            accounts = self.ib.managedAccounts()
            if self.settings.account and self.settings.account not in accounts:
                raise AccountError(f"account {self.settings.account} is not managed by this TWS login "
                                   f"(it manages {', '.join(accounts) or 'none'})")
            summary = await self._on_connected(self.ib, full=True)
        finally:
            self.reconciling = False
        elapsed = (time.perf_counter() - started) * 1000
        self.connect_ms.append(elapsed)
        account = self.settings.account or ", ".join(self.ib.managedAccounts())
        return (f"TWS v{self.ib.client.serverVersion()} at {self.settings.address}, client {self.settings.client_id}, "
                f"account {account}; {summary} in {elapsed:.0f} ms")

    async def _watch(self) -> None:
        """Return when the link is gone: TWS closed it, or it stopped answering the heartbeat."""
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that meets the inner result,
        # and stopping the link would then wait on a watch that goes on
        while not self._lost.is_set():
            try:
                async with asyncio.timeout(self.settings.heartbeat_s):
                    await self._lost.wait()
            except TimeoutError:
                try:
                    async with asyncio.timeout(self.settings.heartbeat_timeout_s):
                        await self.ib.reqCurrentTimeAsync()
                except (TimeoutError, ConnectionError):
                    log.warning("%s: TWS did not answer the heartbeat; reconnecting", self.name)
                    return

    def _explain(self, exc: Exception) -> tuple[ConnectionState, str]:
        address = self.settings.address
        if self._last_code == parsing.CLIENT_ID_IN_USE_CODE:
            return ConnectionState.ERROR, (f"client id {self.settings.client_id} is already in use at TWS "
                                           "(another app, or a session TWS has not closed yet)")
        if isinstance(exc, AccountError):
            return ConnectionState.ERROR, str(exc)
        if isinstance(exc, asyncio.TimeoutError):
            return ConnectionState.DISCONNECTED, (f"TWS at {address} did not finish the API handshake in "
                                                  f"{self.settings.connect_timeout_s:g} s (API enabled? 127.0.0.1 trusted?)")
        if isinstance(exc, ConnectionRefusedError):
            return ConnectionState.DISCONNECTED, f"TWS/IB Gateway is not listening at {address}"
        if isinstance(exc, OSError) and not isinstance(exc, ConnectionError):
            return ConnectionState.DISCONNECTED, f"cannot reach {address}: {exc.strerror or exc}"
        return ConnectionState.DISCONNECTED, f"connection to {address} failed: {exc or type(exc).__name__}"

    # ---- ib_async events --------------------------------------------------------------------------

    def _make_ib(self):
        import ib_async

        ib = ib_async.IB()
        ib.disconnectedEvent += self._on_disconnected
        ib.errorEvent += self._on_ib_error
        return ib

    def _on_disconnected(self) -> None:
        self._lost.set()

    def _on_ib_error(self, req_id: int, code: int, text: str, contract) -> None:
        self._last_code = code
        kind = parsing.classify_error(code)
        level = {"info": logging.DEBUG, "warning": logging.INFO}.get(kind, logging.WARNING)
        log.log(level, "%s: IB %s (request %s): %s", self.name, code, req_id, text)
        if kind == "link_lost" and self.state is ConnectionState.CONNECTED:
            self._set(ConnectionState.STALE, f"TWS lost its connection to IB's servers (IB {code}); orders wait")
        elif kind == "link_restored" and self.state in (ConnectionState.STALE, ConnectionState.CONNECTED):
            asyncio.ensure_future(self._resync(code))
        self._on_error(req_id, code, text)

    async def _resync(self, code: int) -> None:
        """TWS is back in touch with IB: reconcile again (resubscribing market data) before trading."""
        self.reconciling = True
        try:
            summary = await self._on_connected(self.ib, full=False)
        except Exception as exc:  # the link is not trustworthy: start over
            log.warning("%s: re-sync after IB %s failed (%s); reconnecting", self.name, code, exc)
            self._drop()
            self._lost.set()
            return
        finally:
            self.reconciling = False
        self._set(ConnectionState.CONNECTED, f"TWS reconnected to IB's servers (IB {code}); {summary}")
