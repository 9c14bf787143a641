"""Warm-up, then take back what was traded; never trade a position that history merely implies.

After the history bars, three cases per instrument:
- nothing was traded yet: the position history implies was never bought, so the strategy starts
  flat (its next signal is an entry, not the exit of a phantom position);
- the history reaches the last traded bar (live after a restart): keep the warmed-up state when it
  agrees with the traded one, else take the traded one;
- the history stops short of it (a replay restarted from its beginning): the bars up to the last
  traded one come again live; the strategy catches up on them with its signals muted (they were
  sent before), and the traded state is compared once the first newer bar arrives.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from station.domain.marketdata import Bar
from station.engine.history import BarHistory
from station.engine.signals import POSITION_NAMES
from station.engine.strategies.base import Strategy


async def warm_up(instance: Strategy, history: BarHistory | None, end: datetime, saved: dict[str, Any] | None,
                  log: logging.Logger) -> dict[str, Any] | None:
    """Feed the bars before `end` silently, then resume; returns the traded state still to catch up to, if any."""
    if history is not None:
        series = []
        for symbol, timeframe in instance.subscriptions():
            series += await history.closed_bars(symbol, timeframe, end, instance.warmup_bars())
        for bar in sorted(series, key=lambda b: (b.start, b.symbol)):
            instance.on_bar(bar)
        instance.events.clear()
        log.info("%s %s warmed up on %d bars", instance.name, instance.ticker, len(series))
    if not saved:
        start_flat(instance, log)
    elif behind(instance, saved):
        log.info("%s %s: history ends before the last traded bar; catching up on the bars as they come, "
                 "their signals muted", instance.name, instance.ticker)
        return saved
    else:
        restore(instance, saved, log)
    return None


def start_flat(instance: Strategy, log: logging.Logger) -> None:
    """Forget the position the warm-up bars implied: nothing was traded."""
    if instance.position:
        log.info("%s %s: history implies %s, but nothing was traded: starting flat", instance.name,
                 instance.ticker, POSITION_NAMES[instance.position])
    instance.restore({key: 0 if key == "position" else None for key in instance.BASE_STATE + instance.STATE})


def behind(instance: Strategy, saved: dict[str, Any]) -> bool:
    """True when the warm-up stopped before the last bar the strategy traded on."""
    for symbol, text in saved.get("last_bars", {}).items():
        seen = instance.last_bars.get(symbol)
        if seen is None or seen < datetime.fromisoformat(text):
            return True
    return False


def caught_up(bar: Bar, saved: dict[str, Any]) -> bool:
    """True when `bar` is newer than the last bar of its symbol the strategy traded on."""
    text = saved.get("last_bars", {}).get(bar.symbol)
    return text is None or bar.start > datetime.fromisoformat(text)


def restore(instance: Strategy, saved: dict[str, Any], log: logging.Logger) -> None:
    """Keep the warmed-up state when it agrees with what was last traded; else take the traded one."""
    now = instance.state()
    keys = ("position",) + instance.STATE
    if any(now.get(k) != saved.get(k) for k in keys if k in saved):
        log.warning("%s %s: history says %s, the last traded state says %s; keeping the traded state",
                    instance.name, instance.ticker, {k: now.get(k) for k in keys}, {k: saved.get(k) for k in keys})
        instance.restore(saved)
    else:
        instance.restore({"last_bars": saved.get("last_bars", {})})
