"""`station bench start`'s two measurements, once each, against this install."""

from __future__ import annotations

import sys

from station.bench.start import time_to_first_paint, time_to_health_and_stop

STATION = [sys.executable, "-m", "station"]


def test_first_paint_is_timed_from_a_real_demo_start(keyring_env):
    seconds = time_to_first_paint(STATION)
    assert seconds > 0  # a figure to report, not a bound: CONTRACT.md states none for a start


def test_health_and_sigterm_are_timed_from_a_real_headless_start(keyring_env):
    ready, stopped = time_to_health_and_stop(STATION)
    assert ready > 0 and stopped > 0  # figures; the 2 s exit CONTRACT.md states is the contract tests' to assert
