"""Inline checks of the Strategies dock: ports, sizes, folders. Pure: no Qt."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

from station.domain.config import DestinationConfig, RoutingConfig


def parse_port(text: str) -> int:
    """A TCP port from the user's text, or ValueError saying what is wrong."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{text.strip() or 'empty'} is not a port number") from None
    if not 1 <= value <= 65535:
        raise ValueError(f"port {value} is out of range 1–65535")
    return value


def parse_size(text: str) -> dict:
    """`2` (a fixed qty), `x1.5` (a multiplier of the alert's qty) or empty (the alert's qty as sent)."""
    text = text.strip().replace("×", "x")
    if not text or text.lower() in ("as sent", "alert"):
        return {}
    multiplier = text.lower().startswith("x")
    try:
        value = Decimal(text[1:].strip() if multiplier else text)
    except InvalidOperation:
        raise ValueError(f"{text!r}: give a quantity (2) or a multiplier (x1.5)") from None
    if not value.is_finite() or value <= 0:
        raise ValueError("the size must be greater than 0")
    number = int(value) if value == value.to_integral_value() else float(value)
    return {"multiplier": number} if multiplier else {"qty": number}


def size_text(route: dict) -> str:
    if "qty" in route:
        return str(route["qty"])
    if "multiplier" in route:
        return f"x{route['multiplier']}"
    return "as sent"


def port_problems(config: RoutingConfig, strategy: str, ticker: str, ports: list[int]) -> dict[int, str]:
    """Duplicate ports in one ticker (an error) and ports another ticker also uses (a warning)."""
    problems: dict[int, str] = {}
    for port in ports:
        if ports.count(port) > 1:
            problems[port] = f"port {port} is listed twice"
    for other in config.strategies:
        for entry in other.tickers:
            if (other.name, entry.ticker) == (strategy, ticker):
                continue
            for port in set(ports) & set(entry.ports):
                problems.setdefault(port, f"warning: {other.name}/{entry.ticker} also sends to port {port}")
    return problems


def destination_problem(destination: DestinationConfig) -> str | None:
    """An ATI destination's folders must exist (NinjaTrader's incoming/outgoing)."""
    if destination.type != "ninjatrader-ati":
        return None
    missing = [f"{key} folder {destination.params.get(key)} does not exist" for key in ("incoming", "outgoing")
               if destination.params.get(key) and not Path(destination.params[key]).is_dir()]
    return "; ".join(missing) or None
