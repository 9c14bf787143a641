"""Strategy parameters from the command line: `--set KEY=VALUE`, `--sweep KEY=V1,V2,…`, `--search KEY=LOW:HIGH`.

KEY names an engine key, dotted into nested ones (`line1.period`, `timeframe`, `qty`); a value is read as a
number, `true`/`false`, `null` or else text. Every combination is checked by the engine's own schema
(`domain/engine_schema.py`) before anything runs, so a bad key or value is one clear error, never a
failed task on some worker.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass
from typing import Any, Iterable

from station.domain import validation as v
from station.domain.engine_schema import engine_params


class ParamError(ValueError):
    """A bad parameter key or value; the message names it."""


def parse_value(text: str) -> Any:
    """`9` → 9, `2.5` → 2.5, `true` → True, `null` → None, `ema` → "ema"."""
    text = text.strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, (dict, list)):
        raise ParamError(f"{text!r}: a value is a number, true/false, null or text")
    return value


def _split(text: str, what: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or not value.strip() or any(not part for part in key.split(".")):
        raise ParamError(f"{what} {text!r}: expected KEY=VALUE")
    return key, value


def parse_set(text: str) -> tuple[str, Any]:
    """`--set line1.period=9`."""
    key, value = _split(text, "--set")
    return key, parse_value(value)


def parse_sweep(text: str) -> tuple[str, list[Any]]:
    """`--sweep line1.period=5,9,13`: the values in the order given, repeats dropped."""
    key, values = _split(text, "--sweep")
    parsed: list[Any] = []
    for part in values.split(","):
        if not part.strip():
            raise ParamError(f"--sweep {text!r}: an empty value")
        value = parse_value(part)
        if value not in parsed:
            parsed.append(value)
    return key, parsed


@dataclass(frozen=True)
class SearchRange:
    """`--search KEY=LOW:HIGH`: integers when both ends are, else real numbers."""

    key: str
    low: float
    high: float
    integer: bool


def parse_search(text: str) -> SearchRange:
    key, value = _split(text, "--search")
    low_text, sep, high_text = value.partition(":")
    low, high = parse_value(low_text), parse_value(high_text) if sep else None
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (low, high))
    if not sep or not numbers or high <= low:
        raise ParamError(f"--search {text!r}: expected KEY=LOW:HIGH with numbers, LOW below HIGH")
    return SearchRange(key, low, high, isinstance(low, int) and isinstance(high, int))


def apply(engine: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The engine object with `overrides` (dotted keys) in place, checked by the engine's schema."""
    out = copy.deepcopy(engine)
    for key, value in overrides.items():
        node = out
        *path, last = key.split(".")
        for part in path:
            child = node.get(part)
            if not isinstance(child, dict):
                raise ParamError(f"{key}: unknown engine key ({part} holds no keys)")
            node = child
        if last not in node and path:
            raise ParamError(f"{key}: unknown engine key (known under {'.'.join(path)}: {', '.join(sorted(node))})")
        node[last] = value
    try:
        return engine_params(out)
    except v.Invalid as exc:
        raise ParamError(_name_keys(str(exc), overrides)) from None


def _name_keys(message: str, overrides: dict[str, Any]) -> str:
    given = ", ".join(f"{k}={json.dumps(val)}" for k, val in overrides.items())
    return f"{message}" + (f" (with {given})" if given else "")


def grid(sweeps: Iterable[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """Every combination of the sweeps' values, the first key varying slowest."""
    sweeps = list(sweeps)
    if not sweeps:
        return [{}]
    keys = [key for key, _ in sweeps]
    if len(set(keys)) != len(keys):
        raise ParamError("--sweep names the same key twice")
    return [dict(zip(keys, combo)) for combo in itertools.product(*(values for _, values in sweeps))]
