"""Per-address rate limits ("N per second|minute|hour|day") and the source address allow-list.

Limits use GCRA (the generic cell rate algorithm): "50 per hour" allows a burst
of 50, then one more every 72 s. It keeps one number per address and limit,
needs no timers, and says exactly when the next request would pass (Retry-After).
"""

from __future__ import annotations

import ipaddress
import math
import time
from typing import Callable, Iterable

from station.domain.validation import parse_rate_limit

PURGE_EVERY = 4096  # look for idle addresses after this many new ones


class RateLimiter:
    """Every limit must allow a request; a refused request consumes nothing."""

    def __init__(self, limits: Iterable[str] = (), clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tat: dict[str, list[float]] = {}  # address -> theoretical arrival time per limit
        self._added = 0
        self.configure(limits)

    def configure(self, limits: Iterable[str]) -> None:
        """Replace the limits (e.g. from Settings); counts start afresh."""
        # (emission interval, burst tolerance) per limit
        self._cells = [(period / count, period - period / count)
                       for count, period in (parse_rate_limit(text) for text in limits)]
        self._tat.clear()

    @property
    def enabled(self) -> bool:
        return bool(self._cells)

    def retry_after(self, address: str) -> float:
        """Seconds until `address` may send again without using one up (0: it may now)."""
        tats = self._tat.get(address)
        if tats is None:
            return 0.0
        now = self._clock()
        return max((tat - tolerance - now for tat, (_, tolerance) in zip(tats, self._cells)), default=0.0)

    def hit(self, address: str, cost: int = 1) -> float:
        """Count `cost` units (one request, or its bytes); 0 if allowed, else the seconds to wait (nothing counted)."""
        if not self._cells:
            return 0.0
        now = self._clock()
        tats = self._tat.get(address)
        if tats is None:
            self._added += 1
            if self._added >= PURGE_EVERY:
                self._purge(now)
            tats = self._tat[address] = [now] * len(self._cells)
        wait = 0.0
        for tat, (interval, tolerance) in zip(tats, self._cells):
            wait = max(wait, max(tat, now) + interval * (cost - 1) - tolerance - now)
        if wait > 0:
            return wait
        for index, (interval, _) in enumerate(self._cells):
            tats[index] = max(tats[index], now) + interval * cost
        return 0.0

    def _purge(self, now: float) -> None:
        """Forget addresses whose every limit is back to full (so memory stays bounded)."""
        self._added = 0
        idle = [address for address, tats in self._tat.items() if all(tat <= now for tat in tats)]
        for address in idle:
            del self._tat[address]


def retry_after_header(wait: float) -> str:
    """Whole seconds for Retry-After, at least 1."""
    return str(max(1, math.ceil(wait)))


class SourceAccess:
    """Who is sending (peer, or X-Forwarded-For from a local tunnel) and whether it is allowed."""

    def __init__(self) -> None:
        self.behind_tunnel = False
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []

    def configure(self, allowlist: Iterable[str], behind_tunnel: bool) -> None:
        self._networks = [ipaddress.ip_network(entry, strict=False) for entry in allowlist]
        self.behind_tunnel = behind_tunnel

    @property
    def allowlist_on(self) -> bool:
        return bool(self._networks)

    def client_address(self, peer: str | None, forwarded_for: str | None) -> str:
        """The sender's address. Behind a tunnel the peer is loopback: then (and only then) the
        last X-Forwarded-For entry, the one the tunnel itself appended, names the real sender."""
        peer = peer or "unknown"
        if self.behind_tunnel and forwarded_for and is_loopback(peer):
            last = forwarded_for.rsplit(",", 1)[-1].strip()
            if last:
                return _strip_port(last)
        return peer

    def allowed(self, address: str) -> bool:
        """True when the allow-list is off or lists `address`."""
        if not self._networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._networks)


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and their IPv4-mapped form (a client on the trading PC itself)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _strip_port(entry: str) -> str:
    """`1.2.3.4:5678` → `1.2.3.4`; `[::1]:80` → `::1`; anything else as it is."""
    if entry.startswith("[") and "]" in entry:
        return entry[1:entry.index("]")]
    if entry.count(":") == 1:
        return entry.split(":", 1)[0]
    return entry
