"""Which running strategy instances hear which bar series: the runner's hot-path lookup."""

from __future__ import annotations

from station.engine.group import StrategyGroup
from station.engine.strategies.base import Strategy

SeriesKey = tuple[str, str]  # (symbol, timeframe)


class BarRoutes:
    """Closed bars go to every (group, instance) subscribed; open bars' prices to instances that watch prices."""

    def __init__(self) -> None:
        self.closed: dict[SeriesKey, list[tuple[StrategyGroup, Strategy]]] = {}
        self.prices: dict[SeriesKey, list[Strategy]] = {}

    def add(self, group: StrategyGroup) -> None:
        for instance in group.instances:
            for key in instance.subscriptions():
                self.closed.setdefault(key, []).append((group, instance))
                if type(instance).on_price is not Strategy.on_price:
                    self.prices.setdefault(key, []).append(instance)

    def remove(self, group: StrategyGroup) -> None:
        for key in list(self.closed):
            self.closed[key] = [(g, i) for g, i in self.closed[key] if g is not group]
            if not self.closed[key]:
                del self.closed[key]
        for key in list(self.prices):
            self.prices[key] = [i for i in self.prices[key] if i not in group.instances]
            if not self.prices[key]:
                del self.prices[key]
