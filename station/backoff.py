"""The one reconnect and retry back-off every broker and feed shares: exponential, capped, with jitter.

Jitter spreads the retries of links that dropped together (TWS's daily restart takes every
IB destination down at once), so they do not all knock at the same instant. It only ever
shortens a delay, never lengthens it: the cap stays the longest anyone waits, which is what
the contract's "reconnects within 15 s of the broker being back" rests on.
"""

from __future__ import annotations

import random
from typing import Callable


class Backoff:
    """Delays for successive attempts: `initial`, then times `factor` up to `maximum`, each shortened by
    up to `jitter` (a fraction) at random; `reset()` after a link that held starts over at `initial`."""

    def __init__(self, initial: float, maximum: float, *, factor: float = 2.0, jitter: float = 0.2,
                 rng: Callable[[], float] = random.random) -> None:
        if initial <= 0 or maximum < initial or factor < 1 or not 0 <= jitter < 1:
            raise ValueError(f"bad back-off: initial {initial}, maximum {maximum}, factor {factor}, jitter {jitter}")
        self.initial, self.maximum, self.factor, self.jitter = initial, maximum, factor, jitter
        self._rng = rng
        self.attempts = 0

    def __repr__(self) -> str:
        return f"Backoff({self.initial:g}..{self.maximum:g} s, x{self.factor:g}, jitter {self.jitter:g})"

    def ceiling(self, attempt: int) -> float:
        """The delay before attempt `attempt` (0-based) without jitter."""
        return min(self.maximum, self.initial * self.factor ** min(attempt, 64))

    def next(self) -> float:
        """The delay before the next attempt (and count that attempt)."""
        delay = self.ceiling(self.attempts) * (1.0 - self.jitter * self._rng())
        self.attempts += 1
        return delay

    def reset(self) -> None:
        """The link held: the next failure waits `initial` again."""
        self.attempts = 0
