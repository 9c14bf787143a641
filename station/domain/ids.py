"""Client order ids derived from an order's cause, so the same cause never makes two orders."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]+")
MAX_LEN = 100


def _part(text: str) -> str:
    return _UNSAFE.sub("_", text.strip()) or "_"


def client_order_id(cause: str, strategy: str | None, destination: str, leg: str | None = None) -> str:
    """`<cause>-<strategy>-<destination>[-<leg>]`, safe for ATI files, IB orderRef and URLs.

    `cause` names what made the order: `a17` (alert 17), `s<signal id>` (a strategy
    signal), `m<click id>` (a manual click). The same inputs always give the same id.
    """
    parts = [cause, strategy or "_", destination] + ([leg] if leg else [])
    value = "-".join(_part(p) for p in parts)
    if len(value) > MAX_LEN:
        import hashlib

        digest = hashlib.sha1(value.encode()).hexdigest()[:12]
        value = f"{value[:MAX_LEN - 13]}~{digest}"
    return value


def alert_cause(alert_id: int) -> str:
    """The cause part for an alert."""
    return f"a{alert_id}"
