"""Station's strategies, by the `kind` named in a strategy's `engine` config."""

from __future__ import annotations

from station.engine.strategies.base import Strategy


def strategy_classes() -> dict[str, type[Strategy]]:
    """Every strategy kind and its class."""
    from station.engine.strategies.crossover import Crossover
    from station.engine.strategies.pairs import Pairs
    from station.engine.strategies.supertrend import SupertrendReversal
    from station.engine.strategies.zero_dte import ZeroDte

    return {cls.kind: cls for cls in (Crossover, SupertrendReversal, ZeroDte, Pairs)}
