"""Checking a config document (`station config import`, the REST API, the window) before anything is applied.

Pure: every key is checked and every bad one named (by its path, e.g.
`strategies.S.tickers.ES.destinations.nt.instrument`) in one `ConfigError`; only a
clean plan goes on to the store, which applies it whole or not at all.
"""

from __future__ import annotations

from typing import Any

from station.domain import config_schema as schema
from station.domain import validation as v
from station.domain.config import DestinationConfig, StrategyConfig, TickerConfig, TickerDestination
from station.domain.validation import ConfigError

FORMAT = "station-config"
FORMAT_VERSION = 1
TOP_LEVEL = ("format", "version", "settings", "destinations", "strategies")


def check_document(document: Any) -> dict[str, Any]:
    """Validate a whole document; raises ConfigError naming every bad key, else a clean plan."""
    errors: dict[str, str] = {}
    if not isinstance(document, dict):
        raise ConfigError({"(document)": "must be a JSON object"})
    for key in document:
        if key not in TOP_LEVEL:
            errors[key] = f"unknown key (known: {', '.join(TOP_LEVEL)})"
    if document.get("format", FORMAT) != FORMAT:
        errors["format"] = f"must be {FORMAT!r}"
    version = document.get("version", FORMAT_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
        errors["version"] = f"must be a version up to {FORMAT_VERSION}"
    plan = {
        "settings": _check_settings(document.get("settings", {}), errors),
        "destinations": _check_destinations(document.get("destinations", {}), errors),
        "strategies": _check_strategies(document.get("strategies", {}), errors),
    }
    if errors:
        raise ConfigError(errors)
    return plan


def _check_settings(value: Any, errors: dict[str, str]) -> dict[str, dict]:
    if not isinstance(value, dict):
        errors["settings"] = "must be an object"
        return {}
    clean = {}
    for section, values in value.items():
        if section not in schema.SETTINGS:
            errors[f"settings.{section}"] = f"unknown section (known: {', '.join(sorted(schema.SETTINGS))})"
            continue
        clean[section] = schema.SETTINGS[section].check(values, f"settings.{section}", errors)
    return clean


def _check_destinations(value: Any, errors: dict[str, str]) -> dict[str, DestinationConfig]:
    if not isinstance(value, dict):
        errors["destinations"] = "must be an object"
        return {}
    clean = {}
    for name, spec in value.items():
        path = f"destinations.{_shown(name)}"
        try:
            v.name(name)
        except v.Invalid as exc:
            errors[path] = f"a destination's name {exc}" if name.strip() else "a destination needs a name"
            continue
        if not isinstance(spec, dict):
            errors[path] = "must be an object"
            continue
        kind = spec.get("type")
        if kind not in schema.DESTINATION_TYPES:
            errors[f"{path}.type"] = f"must be one of {', '.join(schema.DESTINATION_TYPES)}"
            continue
        fields, required = schema.DESTINATION_TYPES[kind]
        params = {k: val for k, val in spec.items() if k != "type"}
        for key in params:
            if any(word in key.lower() for word in schema.SECRET_WORDS):
                errors[f"{path}.{key}"] = f"credentials belong in the keyring: station secret set {kind}-{key.replace('_', '-')}"
        params = {k: val for k, val in params.items() if f"{path}.{k}" not in errors}
        checked = fields.check(params, path, errors, required=required)
        full = {**{k: d for k, d in fields.defaults().items() if d is not None}, **checked}
        if kind == "ninjatrader-ati" and "incoming" in full and "outgoing" in full and \
                _same_folder(full["incoming"], full["outgoing"]):
            errors[f"{path}.outgoing"] = "must be another folder than incoming (NinjaTrader reads one, writes the other)"
        clean[name] = DestinationConfig(name=name, type=kind, params=full)
    return clean


def _same_folder(a: str, b: str) -> bool:
    import os

    norm = lambda p: os.path.normcase(os.path.normpath(os.path.expanduser(p.replace("\\", "/"))))  # noqa: E731
    return norm(a) == norm(b)


def _shown(key: str) -> str:
    """A key as an error names it: control characters escaped, cut short."""
    shown = key.encode("unicode_escape").decode("ascii") if not key.isprintable() else key
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _check_strategies(value: Any, errors: dict[str, str]) -> dict[str, StrategyConfig]:
    if not isinstance(value, dict):
        errors["strategies"] = "must be an object"
        return {}
    clean = {}
    for name, spec in value.items():
        path = f"strategies.{_shown(name)}"
        try:
            v.name(name)
        except v.Invalid as exc:
            errors[path] = f"a strategy's name {exc}" if name.strip() else "a strategy needs a name"
            continue
        fields = schema.STRATEGY.check(spec, path, errors)
        tickers = tuple(_check_tickers(fields.get("tickers", {}), f"{path}.tickers", errors))
        options = {k: fields[k] for k in schema.STRATEGY_OPTION_KEYS if k in fields}
        clean[name] = StrategyConfig(
            name=name, enabled=fields.get("enabled", True), accounts=fields.get("accounts", {}),
            tickers=tickers, options={**{k: schema.STRATEGY.fields[k][1] for k in schema.STRATEGY_OPTION_KEYS}, **options},
        )
    return clean


def _check_tickers(value: dict, path: str, errors: dict[str, str]):
    for ticker, spec in value.items():
        where = f"{path}.{_shown(ticker)}"
        try:
            v.name(ticker)
        except v.Invalid as exc:
            errors[where] = f"a ticker {exc}" if ticker.strip() else "a ticker needs a symbol"
            continue
        fields = schema.TICKER.check(spec, where, errors)
        routes = []
        for dest, sizing in fields.get("destinations", {}).items():
            at = f"{where}.destinations.{dest}"
            got = schema.TICKER_DESTINATION.check(sizing, at, errors)
            if got.get("qty") is not None and got.get("multiplier") is not None:
                errors[at] = "give either qty (a fixed size) or multiplier (scales the alert), not both"
            routes.append(TickerDestination(
                destination=dest, qty=got.get("qty"), multiplier=got.get("multiplier"),
                instrument=got.get("instrument"),
                options={k: got[k] for k in schema.TICKER_DESTINATION_OPTION_KEYS if k in got},
            ))
        yield TickerConfig(
            ticker=ticker.strip(), enabled=fields.get("enabled", True), ports=tuple(fields.get("ports", [])),
            destinations=tuple(routes), options={k: fields[k] for k in schema.TICKER_OPTION_KEYS if k in fields},
        )
