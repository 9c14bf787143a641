"""The exit manager's price index: each level fires once, in the right direction, and a price that reaches nothing
costs the same however many levels wait; trailing stops move only with better prices."""

from __future__ import annotations

from decimal import Decimal as D

from station.domain.enums import Side
from station.domain.instructions import Offset
from station.oms.exits.triggers import TrailingStops, TriggerIndex


def test_levels_fire_once_in_their_direction_and_removed_ones_never():
    index = TriggerIndex()
    index.add("long-stop", "ES", D(4990), at_or_below=True)
    index.add("long-target", "es", D(5010), at_or_below=False)
    index.add("gone", "ES", D(4995), at_or_below=True)
    index.remove("gone")
    assert index.crossed("ES", D(5000)) == [] and len(index) == 2
    assert index.crossed("ES", D(4990)) == ["long-stop"]
    assert index.crossed("ES", D(4980)) == []  # fired once
    assert index.crossed("NQ", D(6000)) == []
    assert index.crossed("ES", D(5011)) == ["long-target"] and len(index) == 0


def test_a_level_moved_fires_at_its_new_place_only():
    index = TriggerIndex()
    index.add("s", "ES", D(4990), at_or_below=True)
    index.add("s", "ES", D(4980), at_or_below=True)
    assert index.crossed("ES", D(4985)) == []
    assert index.crossed("ES", D(4980)) == ["s"]


def test_trailing_stops_follow_better_prices_and_fire_when_reached():
    trails = TrailingStops()
    assert trails.add("long", "ES", Side.SELL, Offset("points", D(2)), D("0.25"), D(5000)) == D(4998)
    assert trails.add("short", "ES", Side.BUY, Offset("ticks", D(4)), D("0.25"), D(5000)) == D(5001)
    assert trails.on_price("ES", D(5003)) == ([("long", D(5001))], ["short"])
    assert trails.on_price("ES", D(5002)) == ([], [])  # a worse price moves nothing
    assert trails.on_price("ES", D(5001)) == ([], ["long"]) and len(trails) == 0


def test_a_restored_trailing_stop_keeps_the_level_it_reached():
    trails = TrailingStops()
    assert trails.add("t", "ES", Side.SELL, Offset("points", D(5)), None, D(5000), stop=D(4999)) == D(4999)
