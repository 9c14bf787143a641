"""`station bench start`'s two measurements, once each, against this install."""

from __future__ import annotations

import sys

from station.bench.start import time_to_first_paint, time_to_health_and_stop

STATION = [sys.executable, "-m", "station"]


def test_first_paint_is_timed_from_a_real_demo_start(keyring_env):
    seconds = time_to_first_paint(STATION)
    assert 0 < seconds < 30


def test_health_and_sigterm_are_timed_from_a_real_headless_start(keyring_env):
    ready, stopped = time_to_health_and_stop(STATION)
    assert 0 < ready < 10 and 0 < stopped < 10
