"""After warm-up: take back what was traded, and never trade a position that history merely implies.

Three cases, per instrument:
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
from station.engine.signals import POSITION_NAMES
from station.engine.strategies.base import Strategy


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
