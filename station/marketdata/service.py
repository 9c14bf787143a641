"""The market data component: bar hub, replay, Databento live and history, built from the `marketdata` settings.

`--demo` replays the bundled sample (the night fast-forwarded, then ×`replay_speed`
from 09:25 ET) and starts no live feed: it needs no key and no network. Otherwise
the live feed subscribes to `live_symbols` when any are configured; a config change
to the live settings reconnects it with the new subscription.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from pathlib import Path
from typing import Any, Callable

from station.bus import Bus
from station.domain.events import ConfigChanged
from station.domain.timeutil import utc_now
from station.marketdata.clock import MarketClock
from station.marketdata.databento.historical import CacheIndex, HistoricalData
from station.marketdata.hub import BarHub
from station.marketdata.databento.live import DatabentoLive, LiveSubscription
from station.marketdata.replay import DbnReplay
from station.marketdata.trade_history import TradeHistory
from station.marketdata.trades import ns_to_datetime

log = logging.getLogger("station.marketdata")

SAMPLE = Path("sample") / "glbx-es-nq-trades.dbn.zst"
DEMO_PREROLL = time(9, 25)  # exchange time the demo fast-forwards to: five minutes before the cash open
LIVE_KEYS = ("live_dataset", "live_schemas", "live_symbols", "live_stype_in", "live_gateway", "live_port", "warmup",
             "stale_after_s")


def sample_path() -> Path:
    """The bundled demo sample (ES and NQ, one session)."""
    from station.paths import resources_dir

    return resources_dir() / SAMPLE


class MarketData:
    """Owns the hub and the feeds; started and stopped as one component."""

    name = "marketdata"

    def __init__(self, bus: Bus, secrets, settings: Callable[[], dict[str, Any]], *, demo: bool, data_dir: Path,
                 cache_index: CacheIndex) -> None:
        self.bus = bus
        self.secrets = secrets
        self._settings = settings
        self.demo = demo
        current = settings()
        self.settings = current
        self.hub = BarHub(bus, timeframes=tuple(current["timeframes"]), sessions=current["sessions"])
        self.clock = MarketClock()
        self.replay = DbnReplay(bus, self.hub, clock=self.clock)
        self.history = HistoricalData(bus, self.hub, secrets, cache_index, data_dir / "history",
                                      gateway=current["history_gateway"])
        self.trade_history = TradeHistory(bus, self.hub)
        self.live: DatabentoLive | None = None
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        await self.hub.start()
        await self.replay.start()
        await self.history.start()
        await self.trade_history.start()
        if self.demo:
            self.replay.play(sample_path(), self.settings["replay_speed"], DEMO_PREROLL)
        elif self.settings["replay_file"]:
            self.replay.play(self.settings["replay_file"], self.settings["replay_speed"])
        if not self.demo:
            await self._start_live(self.settings)
        self._unsubscribe = self.bus.subscribe(ConfigChanged, self._on_config)

    async def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        if self.live is not None:
            await self.live.stop()
        await self.trade_history.stop()
        await self.history.stop()
        await self.replay.stop()
        await self.hub.stop()

    def now(self) -> datetime:
        """The market's time: the replay's clock while a replay is the only feed (the demo), else the wall clock."""
        position = self.replay.position_ns
        if position is not None and self.live is None:
            return ns_to_datetime(position)
        return utc_now()

    def market_time(self, wall: datetime) -> datetime | None:
        """The market's time at the wall-clock moment `wall` (`queries.MarketQueries`): a replay's clock while
        it was the market, else the wall clock; None before this run's replay began."""
        return self.clock.at(wall)

    async def closed_bars(self, symbol: str, timeframe: str, end, count: int) -> list:
        """The engine's warm-up (`BarHistory`): up to `count` closed bars built so far that started before `end`."""
        requester = f"warmup:{symbol}:{timeframe}"
        columns = self.hub.request(symbol, timeframe, requester)
        self.hub.release(symbol, timeframe, requester)
        end_ns = int(end.timestamp() * 1_000_000_000)
        closed = len(columns) - (1 if columns.forming else 0)
        before = [i for i in range(closed) if columns.start_ns[i] < end_ns]
        return [columns.bar(i) for i in before[-count:]] if count else []

    async def _start_live(self, settings: dict[str, Any]) -> None:
        if not settings["live_symbols"]:
            self.live = None
            return
        subscriptions = [LiveSubscription(settings["live_dataset"], schema, tuple(settings["live_symbols"]),
                                          settings["live_stype_in"]) for schema in settings["live_schemas"]]
        self.live = DatabentoLive(self.bus, self.hub, self.secrets, subscriptions, gateway=settings["live_gateway"],
                                  port=settings["live_port"], warmup=settings["warmup"],
                                  stale_after_s=settings["stale_after_s"])
        self.clock.live()
        await self.live.start()

    async def _on_config(self, event: ConfigChanged) -> None:
        settings = self._settings()
        changed = any(settings[k] != self.settings[k] for k in LIVE_KEYS)
        self.settings = settings
        if changed and not self.demo:
            log.info("market data settings changed: reconnecting the live feed")
            if self.live is not None:
                await self.live.stop()
            await self._start_live(settings)
