"""The 0DTE Call, Put and Close buttons (window, REST API): which instance signals what, or why not."""

from __future__ import annotations

from datetime import datetime

from station.domain.enums import OptionRight
from station.engine.group import HALTED, StrategyGroup
from station.engine.signals import Signal
from station.engine.strategies.zero_dte import ZeroDte, ZeroDteRefused


def zero_dte_press(group: StrategyGroup | None, name: str, right: OptionRight | None, click_id: str, now: datetime,
                   kill_switch: bool) -> list[tuple[ZeroDte, list[Signal]]]:
    """The signals of one press (`right` None closes); ZeroDteRefused saying why nothing can be done."""
    if group is None or group.kind != "zero_dte":
        raise ZeroDteRefused(f"{name!r} is not a 0DTE strategy")
    if group.state == HALTED or kill_switch:
        raise ZeroDteRefused(f"{group.name} is halted: {group.reason or 'kill switch'}")
    if not group.instances:
        raise ZeroDteRefused(group.error or "no instrument configured")
    pressed = []
    for instance in group.instances:
        assert isinstance(instance, ZeroDte)
        signals = instance.manual(right, click_id, now)
        if signals:
            pressed.append((instance, signals))
    return pressed
