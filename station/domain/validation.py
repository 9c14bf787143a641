"""Small declarative checks for config documents: each returns the clean value or raises.

A `Check` is a callable `value -> clean value` that raises `Invalid(why)`.
Errors are collected with their path (`strategies.Momentum.tickers.AAPL.ports`)
so the user is told exactly which key is wrong.
"""

from __future__ import annotations

import ipaddress
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

Check = Callable[[Any], Any]


class Invalid(ValueError):
    """A value failed a check; the message says why."""


class ConfigError(ValueError):
    """A config document was rejected; `errors` maps each bad key path to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        first = "; ".join(f"{path}: {why}" for path, why in list(self.errors.items())[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(first + more)


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, not {_type_name(value)}")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("must be a non-empty string" if isinstance(value, str) else f"must be a string, not {_type_name(value)}")
    return value.strip()


MAX_NAME = 100


def name(value: Any) -> str:
    """A name (strategy, destination, ticker): printable text, at most MAX_NAME characters."""
    clean = text(value)
    if len(clean) > MAX_NAME:
        raise Invalid(f"is longer than {MAX_NAME} characters")
    if not clean.isprintable():
        raise Invalid("contains control characters (a newline, NUL, …)")
    return clean


def ati_field(value: Any) -> str:
    """A value written into a NinjaTrader ATI order line (`;`-separated, one line): no `;`, no line breaks."""
    clean = name(value)
    if ";" in clean:
        raise Invalid("must not contain ';' (NinjaTrader's ATI separates fields with it)")
    return clean


def optional(check: Check) -> Check:
    def run(value: Any) -> Any:
        return None if value is None else check(value)
    return run


def number(minimum: float | None = None, maximum: float | None = None, *, positive: bool = False) -> Check:
    def run(value: Any) -> float | int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(f"must be a number, not {_type_name(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise Invalid("must be a finite number")
        if positive and value <= 0:
            raise Invalid("must be greater than 0")
        if minimum is not None and value < minimum:
            raise Invalid(f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise Invalid(f"must be at most {maximum}")
        return value
    return run


def integer(minimum: int | None = None, maximum: int | None = None) -> Check:
    base = number(minimum, maximum)

    def run(value: Any) -> int:
        base(value)
        if isinstance(value, float):
            if not value.is_integer():
                raise Invalid("must be a whole number")
            value = int(value)
        return value
    return run


def decimal(*, positive: bool = True, maximum: Decimal = Decimal("1e9")) -> Check:
    def run(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise Invalid(f"must be a number, not {_type_name(value)}")
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise Invalid(f"{value!r} is not a number") from None
        if not result.is_finite():
            raise Invalid("must be a finite number")
        if positive and result <= 0:
            raise Invalid("must be greater than 0")
        if abs(result) > maximum:
            raise Invalid(f"must be at most {maximum}")
        return result
    return run


def choice(*allowed: str) -> Check:
    def run(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in allowed:
            raise Invalid(f"must be one of {', '.join(allowed)}")
        return value.lower()
    return run


def list_of(item: Check, *, unique: bool = False) -> Check:
    def run(value: Any) -> list:
        if not isinstance(value, list):
            raise Invalid(f"must be a list, not {_type_name(value)}")
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item(element))
            except Invalid as exc:
                raise Invalid(f"item {index + 1}: {exc}") from None
        if unique and len(set(map(repr, out))) != len(out):
            raise Invalid("has duplicates")
        return out
    return run


def url(value: Any) -> str:
    """An http(s) URL with a host (kept as written: OAuth callbacks must match exactly)."""
    from urllib.parse import urlparse

    clean = text(value)
    parsed = urlparse(clean)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise Invalid(f"{clean!r} is not an http(s) URL")
    return clean


def mapping(value: Any) -> dict:
    if not isinstance(value, dict):
        raise Invalid(f"must be an object, not {_type_name(value)}")
    return value


def port(value: Any) -> int:
    return integer(1, 65535)(value)


def listed_port(value: Any) -> int:
    """A TCP port as a number, or as digits in a string (the 0SPX server's own config.json writes "9060")."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return port(value)


def ip_network(value: Any) -> str:
    """An address or CIDR network, e.g. `52.89.214.238` or `10.0.0.0/8`."""
    try:
        return str(ipaddress.ip_network(text(value), strict=False))
    except ValueError:
        raise Invalid(f"{value!r} is not an IP address or network") from None


def http_url(value: Any) -> str:
    """An absolute http(s) URL such as `https://abc.trycloudflare.com`."""
    from urllib.parse import urlsplit

    url = text(value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise Invalid(f"{value!r} is not an http(s) URL")
    return url


_RATE = re.compile(r"^\s*(\d+)\s*(?:per|/)\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)
RATE_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def rate_limit(value: Any) -> str:
    """A limit such as `50 per second`; kept in its normal form `N per unit`."""
    match = _RATE.match(value) if isinstance(value, str) else None
    if not match or int(match.group(1)) <= 0:
        raise Invalid(f"{value!r} is not of the form 'N per second|minute|hour|day'")
    return f"{int(match.group(1))} per {match.group(2).lower()}"


def parse_rate_limit(value: str) -> tuple[int, int]:
    """(count, period in seconds) of a limit string already checked by `rate_limit`."""
    match = _RATE.match(value)
    if not match:
        raise Invalid(f"{value!r} is not a rate limit")
    return int(match.group(1)), RATE_PERIODS[match.group(2).lower()]


class Fields:
    """A dict schema: known keys with checks and defaults; unknown keys are errors."""

    def __init__(self, fields: dict[str, tuple[Check, Any]]) -> None:
        self.fields = dict(fields)

    def defaults(self) -> dict[str, Any]:
        return {key: _copy(default) for key, (_, default) in self.fields.items()}

    def check(self, value: Any, path: str, errors: dict[str, str], *, required: tuple[str, ...] = ()) -> dict:
        """The clean subset of `value` that was given; problems go into `errors` by path."""
        try:
            mapping(value)
        except Invalid as exc:
            errors[path] = str(exc)
            return {}
        clean = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key not in self.fields:
                errors[where] = f"unknown key (known: {', '.join(sorted(self.fields))})"
                continue
            try:
                clean[key] = self.fields[key][0](item)
            except Invalid as exc:
                errors[where] = str(exc)
        for key in required:
            if key not in value:
                errors[f"{path}.{key}" if path else key] = "is required"
        return clean


def _copy(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        import copy
        return copy.deepcopy(value)
    return value
