"""The config a backtest runs: one strategy as the data dir has it, its orders going to one paper destination.

Kept from the strategy: its engine (parameters overridden per run by `--set`/`--sweep`), its tickers
with their settings (`point_value`, `tick_size`, per-ticker engine keys), the sizing of each
ticker's first destination (`qty` or `multiplier`), its order type and risk rules, and the global
risk settings. Dropped: NinjaTrader ports and real destinations (a backtest sends nothing
anywhere) and the processing delay (a wall-clock wait with no meaning on history).
"""

from __future__ import annotations

from typing import Any

from station.research.params import ParamError
from station.research.pipeline import DESTINATION
from station.store.config_repo import ConfigRepository


def backtest_document(repo: ConfigRepository, name: str) -> dict[str, Any]:
    """The backtest's config document for strategy `name`; ParamError when it cannot be backtested."""
    strategy = repo.strategy_document(name)
    if strategy is None:
        known = sorted(s.name for s in repo.load().strategies if s.options.get("engine"))
        hint = f" (engine strategies: {', '.join(known)})" if known else " (the config has no engine strategy)"
        raise ParamError(f"no strategy named {name!r}{hint}")
    if not strategy.get("engine"):
        raise ParamError(f"strategy {name!r} has no engine: only Station's own strategies can be backtested")
    tickers: dict[str, Any] = {}
    for ticker, entry in strategy.get("tickers", {}).items():
        if not entry.get("enabled", True):
            continue
        first = next(iter((entry.get("destinations") or {}).values()), {})
        sizing = {key: first[key] for key in ("qty", "multiplier") if key in first}
        kept = {key: value for key, value in entry.items() if key not in ("destinations", "ports")}
        tickers[ticker] = {**kept, "ports": [], "destinations": {DESTINATION: sizing}}
    if not tickers:
        raise ParamError(f"strategy {name!r} has no enabled ticker")
    engine = {**strategy["engine"], "trade_enabled": True}
    runs = {**strategy, "enabled": True, "delay_s": 0, "engine": engine, "tickers": tickers}
    return {"destinations": {DESTINATION: {"type": "paper"}}, "strategies": {name: runs},
            "settings": {"risk": repo.settings("risk")}}
