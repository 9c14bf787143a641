"""Protective exits: a bracket's stop-loss, take-profit and trailing stop from held to done (`manager.py`),
and the price index that lets Station work them itself at any number (`triggers.py`)."""

from station.oms.exits.manager import ExitManager

__all__ = ["ExitManager"]
