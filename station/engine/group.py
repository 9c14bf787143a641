"""One configured engine strategy: its instances (one per enabled ticker), visible state and log file."""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path
from typing import Any

from station.domain.config import StrategyConfig
from station.engine.calendar import TradingCalendars
from station.engine.strategies import strategy_classes
from station.engine.strategies.base import Strategy
from station.logs import LOG_FORMAT, SecretMask

STOPPED, WARMING_UP, RUNNING, HALTED = "stopped", "warming_up", "running", "halted"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class StrategyGroup:
    """A strategy of the config with an `engine` object, and the per-ticker instances that run it."""

    def __init__(self, config: StrategyConfig, calendars: TradingCalendars, log_dir: Path | None) -> None:
        self.config = config
        self.name = config.name
        self.params: dict[str, Any] = config.options["engine"]
        self.kind: str = self.params["kind"]
        self.calendars = calendars
        self.state = STOPPED
        self.reason = ""
        self.instances: list[Strategy] = []
        self.buffer: list = []  # (instance, bar) that arrived while warming up
        self.error: str | None = None
        self.log = logging.getLogger(f"station.engine.strategy.{_UNSAFE.sub('_', self.name)}")
        self._handler: logging.Handler | None = None
        if log_dir is not None:
            self._open_log(log_dir)

    @property
    def trade_enabled(self) -> bool:
        return bool(self.params.get("trade_enabled", True))

    @property
    def active(self) -> bool:
        return self.state in (WARMING_UP, RUNNING)

    def tickers(self) -> list[str]:
        return [t.ticker for t in self.config.tickers if t.enabled]

    def build(self) -> list[Strategy]:
        """Fresh instances (indicators empty); sets `error` instead when the config cannot run."""
        cls = strategy_classes()[self.kind]
        instances, self.error = [], None
        try:
            for ticker in self.config.tickers:
                if ticker.enabled:
                    params = {**self.params, **(ticker.options.get("engine") or {})}
                    # money per point for risk sizing: the ticker's setting, else the engine's own, else the
                    # futures table (ES 50), else 1
                    own = params.get("point_value")
                    use_own = own and ticker.options.get("point_value") is None
                    params["point_value"] = float(own) if use_own else float(ticker.point_value())
                    instances.append(cls(self.name, ticker.ticker, params, log=self.log, calendars=self.calendars))
        except (ValueError, KeyError, TypeError) as exc:
            self.error = f"config: {exc}"
            instances = []
        if not instances and self.error is None:
            self.error = "no enabled ticker"
        self.instances = instances
        return instances

    def subscriptions(self) -> set[tuple[str, str]]:
        return {sub for instance in self.instances for sub in instance.subscriptions()}

    def snapshot(self) -> dict[str, Any]:
        """What the Strategies dock shows for this strategy."""
        return {
            "name": self.name, "kind": self.kind, "state": self.state, "reason": self.reason,
            "timeframe": self.params.get("timeframe"), "trade_enabled": self.trade_enabled,
            "tickers": self.tickers(), "instances": {i.ticker: i.display() for i in self.instances},
        }

    def _open_log(self, log_dir: Path) -> None:
        folder = log_dir / "strategies"
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(folder / f"{_UNSAFE.sub('_', self.name)}.log",
                                                       maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.setLevel(logging.INFO)
        handler.addFilter(SecretMask())
        self.log.addHandler(handler)
        self._handler = handler

    def close(self) -> None:
        if self._handler is not None:
            self.log.removeHandler(self._handler)
            self._handler.close()
            self._handler = None
