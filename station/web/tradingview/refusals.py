"""Every refused webhook request (any 4xx) becomes a `RequestRefused` and, at most once a minute, a log line.

The store records the event off the hot path (a lazy write on its writer thread), the
Alerts dock shows it, `GET /api/refusals` lists it. A refusal is not an alert: it takes no
alert id. The log says it at WARNING at most once per source address and reason a
minute, counting the ones it kept quiet about, so a flood cannot fill the log; the body
is never logged, and the body kept has its passphrase taken out (`redact.redact_body`).
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Iterable

from station.bus import Bus
from station.domain.events import RequestRefused
from station.domain.refusals import Refusal, reason_kind
from station.domain.timeutil import utc_now
from station.web.tradingview.redact import redact_body

log = logging.getLogger("station.web")

LOG_PERIOD_S = 60.0
MAX_KINDS = 4096  # (source, reason) pairs remembered for the once-a-minute rule


class RefusalRecorder:
    """Turns a refused request into a `RequestRefused` on the bus and a rate-limited WARNING."""

    def __init__(self, bus: Bus, *, period_s: float = LOG_PERIOD_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.bus = bus
        self.period_s = period_s
        self._clock = clock
        self._said: dict[tuple[str, str], list] = {}  # (source, kind) -> [last logged at, times kept quiet]

    def record(self, status: int, reason: str, *, source: str, strategy: str | None, body: bytes | None,
               known_passphrases: Iterable[str | None] = ()) -> Refusal:
        """Publish the refusal (body cut to 512 bytes, passphrases taken out) and log it if due."""
        refusal = Refusal(at=utc_now(), source=source, status=status, reason=reason,
                          strategy=strategy, body=redact_body(body, known_passphrases))
        self._log(refusal)
        self.bus.publish(RequestRefused(refusal))
        return refusal

    def _log(self, refusal: Refusal) -> None:
        key = (refusal.source, reason_kind(refusal.status, refusal.reason))
        now = self._clock()
        state = self._said.get(key)
        if state is not None and now - state[0] < self.period_s:
            state[1] += 1
            return
        quiet = state[1] if state else 0
        if len(self._said) >= MAX_KINDS:  # forget what is a minute old; under a spread-out flood, the oldest half
            self._said = {k: v for k, v in self._said.items() if now - v[0] < self.period_s}
            if len(self._said) >= MAX_KINDS:
                self._said = dict(sorted(self._said.items(), key=lambda item: item[1][0])[MAX_KINDS // 2:])
        self._said[key] = [now, 0]
        where = f" (strategy {refusal.strategy!r} in the URL)" if refusal.strategy else ""
        more = f"; {quiet} more like it since the last such line" if quiet else ""
        log.warning("webhook refused a request from %s%s: %d %s%s", refusal.source, where, refusal.status,
                    refusal.reason, more)
