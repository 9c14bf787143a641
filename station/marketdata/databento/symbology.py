"""Databento symbology → the symbols Station publishes (`ES.c.0` → `ES`)."""

from __future__ import annotations

import re

_CONTINUOUS = re.compile(r"^(?P<root>[A-Za-z0-9]+)\.[cnv]\.(?P<rank>\d+)$")
_PARENT = re.compile(r"^(?P<root>[A-Za-z0-9]+)\.(FUT|OPT)$", re.IGNORECASE)


def display_symbol(stype_in: str, requested: str, raw_symbol: str | int | None = None) -> str:
    """The name trades of `requested` are published under.

    A front continuous contract (`ES.c.0`, `MES.v.0`) is the root (`ES`), so strategies,
    alerts and charts say `ES`; other ranks keep their name (`ES.c.1`). A parent
    (`ES.FUT`) covers many contracts, each published under its raw symbol (`ESH5`)
    when known. Raw symbols are published as they are.
    """
    text = str(requested).strip()
    continuous = _CONTINUOUS.match(text)
    if continuous and stype_in in ("continuous", "raw_symbol", "smart"):
        return continuous.group("root") if continuous.group("rank") == "0" else text
    if _PARENT.match(text) and stype_in == "parent":
        if isinstance(raw_symbol, str) and raw_symbol and not raw_symbol.isdigit():
            return raw_symbol
        return f"{text}#{raw_symbol}" if raw_symbol is not None else text
    return text


def infer_stype(symbol: str) -> str:
    """The Databento symbology a symbol is written in: continuous, parent or raw_symbol."""
    if _CONTINUOUS.match(symbol):
        return "continuous"
    if _PARENT.match(symbol):
        return "parent"
    return "raw_symbol"
