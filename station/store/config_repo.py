"""Strategies, tickers, destinations and settings in SQLite; import and export of the JSON file.

Import is all-or-nothing: the whole document is checked first, and applied in
one transaction only if every key is valid. Every change bumps the config
revision, which a running Station watches (so a CLI import takes effect live).

The connection directly, not sqlite-utils: the config is read at every start and on every
revision change, on the event loop, where importing sqlite-utils (it imports pandas,
~0.4 s) would stall it; an import applies four related tables in one transaction, which
reads best as the SQL itself.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from typing import Any

from station.domain.config import (
    DestinationConfig,
    RoutingConfig,
    StrategyConfig,
    TickerConfig,
    TickerDestination,
)
from station.domain import config_schema as schema
from station.store.database import Store
from station.domain import validation as v
from station.domain.config_check import FORMAT, FORMAT_VERSION, check_document
from station.domain.validation import ConfigError, Invalid



def json_number(value: Decimal | None) -> int | float | None:
    """A Decimal as the plainest JSON number (int when whole)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      default=lambda v: json_number(v) if isinstance(v, Decimal) else str(v))


class ConfigRepository:
    """Reads and writes the routing configuration and settings."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- reading -------------------------------------------------------------------------

    def revision(self) -> int:
        row = self.store.query("SELECT value FROM meta WHERE key = 'config_revision'")
        return int(row[0]["value"]) if row else 0

    def load(self) -> RoutingConfig:
        """A snapshot of every destination and strategy, read in one transaction."""
        conn = self.store.reader()
        conn.execute("BEGIN")
        try:
            return _read_config(conn)
        finally:
            conn.execute("COMMIT")

    def settings(self, section: str) -> dict[str, Any]:
        """A settings section with defaults for keys never set."""
        fields = schema.SETTINGS[section]
        rows = self.store.query("SELECT value FROM settings WHERE section = ?", (section,))
        values = fields.defaults()
        if rows:
            values.update({k: val for k, val in json.loads(rows[0]["value"]).items() if k in fields.fields})
        return values

    def export_document(self) -> dict[str, Any]:
        """The whole configuration as Station's JSON document (round-trips through import)."""
        config = self.load()
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "settings": {section: self.settings(section) for section in schema.SETTINGS},
            "destinations": {d.name: {"type": d.type, **d.params} for d in config.destinations},
            "strategies": {s.name: _export_strategy(s) for s in config.strategies},
        }

    # ---- writing -------------------------------------------------------------------------

    def import_document(self, document: Any) -> int:
        """Check and apply a config document (blocking); returns the new revision."""
        plan = check_document(document)
        return self.store.writer.call(lambda conn: _apply(conn, plan))

    async def import_document_async(self, document: Any) -> int:
        """As `import_document`, awaiting the commit without blocking the loop."""
        plan = check_document(document)
        return await self.store.writer.run(lambda conn: _apply(conn, plan))

    async def update_settings(self, section: str, values: dict[str, Any]) -> int:
        """Change some keys of one settings section; returns the new revision."""
        return await self.import_document_async({"settings": {section: values}})

    # ---- one strategy or destination at a time (Strategies dock, REST API) ----------------------

    def strategy_document(self, name: str) -> dict[str, Any] | None:
        """One strategy as its config-file object, or None."""
        strategy = self.load().strategy(name)
        return None if strategy is None else _export_strategy(strategy)

    async def save_strategy(self, name: str, spec: Any, *, create: bool = False) -> int:
        """Create or replace one strategy from its config-file object; ConfigError names bad keys.

        With `create`, an existing strategy of that name is an error (nothing changes).
        """
        plan = check_document({"strategies": {name: spec}})

        def apply(conn: sqlite3.Connection) -> int:
            if create and conn.execute("SELECT 1 FROM strategies WHERE name = ?", (name,)).fetchone():
                raise ConfigError({f"strategies.{name}": "a strategy of that name exists"})
            return _apply(conn, plan)

        return await self.store.writer.run(apply)

    async def delete_strategy(self, name: str) -> int:
        """Remove a strategy with its tickers and routes; KeyError if there is none."""
        def apply(conn: sqlite3.Connection) -> int:
            if not conn.execute("DELETE FROM strategies WHERE name = ?", (name,)).rowcount:
                raise KeyError(name)
            conn.execute("DELETE FROM ticker_destinations WHERE strategy = ?", (name,))
            conn.execute("DELETE FROM strategy_tickers WHERE strategy = ?", (name,))
            return bump_revision(conn)

        return await self.store.writer.run(apply)

    async def rename_strategy(self, old: str, new: str) -> int:
        """Rename a strategy (tickers and routes follow); KeyError if absent, ConfigError if taken."""
        if not new.strip():
            raise ConfigError({"name": "a strategy needs a name"})

        def apply(conn: sqlite3.Connection) -> int:
            if conn.execute("SELECT 1 FROM strategies WHERE name = ?", (new,)).fetchone():
                raise ConfigError({"name": f"a strategy named {new!r} exists"})
            if not conn.execute("UPDATE strategies SET name = ? WHERE name = ?", (new.strip(), old)).rowcount:
                raise KeyError(old)
            return bump_revision(conn)

        return await self.store.writer.run(apply)

    async def set_strategy_enabled(self, name: str, enabled: bool) -> int:
        """Start (enabled) or stop trading a strategy; KeyError if there is none."""
        def apply(conn: sqlite3.Connection) -> int:
            if not conn.execute("UPDATE strategies SET enabled = ? WHERE name = ?", (int(enabled), name)).rowcount:
                raise KeyError(name)
            return bump_revision(conn)

        return await self.store.writer.run(apply)

    async def save_destination(self, name: str, spec: Any) -> int:
        """Create or replace one named destination; ConfigError names bad keys."""
        return await self.import_document_async({"destinations": {name: spec}})

    async def delete_destination(self, name: str) -> int:
        """Remove a named destination; KeyError if absent, ConfigError while a ticker still uses it."""
        def apply(conn: sqlite3.Connection) -> int:
            users = conn.execute("SELECT strategy, ticker FROM ticker_destinations WHERE destination = ?",
                                 (name,)).fetchall()
            if users:
                where = ", ".join(f"{u['strategy']}/{u['ticker']}" for u in users[:5])
                raise ConfigError({f"destinations.{name}": f"still used by {where}"})
            if not conn.execute("DELETE FROM destinations WHERE name = ?", (name,)).rowcount:
                raise KeyError(name)
            return bump_revision(conn)

        return await self.store.writer.run(apply)


# ---- checking ------------------------------------------------------------------------------


# ---- applying (in the writer thread) --------------------------------------------------------


def _apply(conn: sqlite3.Connection, plan: dict[str, Any]) -> int:
    for section, values in plan["settings"].items():
        row = conn.execute("SELECT value FROM settings WHERE section = ?", (section,)).fetchone()
        merged = {**(json.loads(row["value"]) if row else {}), **values}
        conn.execute(
            "INSERT INTO settings (section, value) VALUES (?, ?) "
            "ON CONFLICT(section) DO UPDATE SET value = excluded.value",
            (section, _dumps(merged)),
        )
    for dest in plan["destinations"].values():
        conn.execute(
            "INSERT INTO destinations (name, type, params) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET type = excluded.type, params = excluded.params",
            (dest.name, dest.type, _dumps(dest.params)),
        )
    known = {row["name"] for row in conn.execute("SELECT name FROM destinations")}
    missing = {
        f"strategies.{s.name}.tickers.{t.ticker}.destinations.{r.destination}": "no such destination; name it under destinations"
        for s in plan["strategies"].values() for t in s.tickers for r in t.destinations
        if r.destination not in known
    }
    if missing:
        raise ConfigError(missing)
    ati = {row["name"] for row in conn.execute("SELECT name FROM destinations WHERE type = 'ninjatrader-ati'")}
    unusable = {}
    for s in plan["strategies"].values():
        for t in s.tickers:
            for r in t.destinations:
                if r.destination not in ati:
                    continue
                at = f"strategies.{s.name}.tickers.{t.ticker}.destinations.{r.destination}"
                for key, value in (("instrument", r.instrument), ("(ticker)", None if r.instrument else t.ticker)):
                    try:
                        value is None or v.ati_field(value)
                    except v.Invalid as exc:
                        unusable[f"{at}.{key}" if key != "(ticker)" else at] = \
                            f"{exc} (the ATI order line carries it); name an instrument without it"
    if unusable:
        raise ConfigError(unusable)
    for strategy in plan["strategies"].values():
        write_strategy(conn, strategy)
    return bump_revision(conn)


def write_strategy(conn: sqlite3.Connection, strategy: StrategyConfig) -> None:
    """Replace one strategy (and its tickers and routes) with `strategy`."""
    row = conn.execute("SELECT seq FROM strategies WHERE name = ?", (strategy.name,)).fetchone()
    seq = row["seq"] if row else conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM strategies").fetchone()[0]
    conn.execute("DELETE FROM strategies WHERE name = ?", (strategy.name,))
    conn.execute(
        "INSERT INTO strategies (name, enabled, accounts, options, seq) VALUES (?, ?, ?, ?, ?)",
        (strategy.name, int(strategy.enabled), _dumps(strategy.accounts), _dumps(strategy.options), seq),
    )
    for index, ticker in enumerate(strategy.tickers):
        conn.execute(
            "INSERT INTO strategy_tickers (strategy, ticker, enabled, ports, options, seq) VALUES (?, ?, ?, ?, ?, ?)",
            (strategy.name, ticker.ticker, int(ticker.enabled), _dumps(list(ticker.ports)), _dumps(ticker.options), index),
        )
        for route in ticker.destinations:
            conn.execute(
                "INSERT INTO ticker_destinations (strategy, ticker, destination, qty, multiplier, instrument, options) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (strategy.name, ticker.ticker, route.destination,
                 None if route.qty is None else str(route.qty),
                 None if route.multiplier is None else str(route.multiplier),
                 route.instrument, _dumps(route.options)),
            )


def bump_revision(conn: sqlite3.Connection) -> int:
    """Advance the config revision (watched by running Stations); returns the new one."""
    conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'config_revision'")
    return int(conn.execute("SELECT value FROM meta WHERE key = 'config_revision'").fetchone()[0])


def _read_config(conn: sqlite3.Connection) -> RoutingConfig:
    revision = int(conn.execute("SELECT value FROM meta WHERE key = 'config_revision'").fetchone()[0])
    destinations = tuple(
        DestinationConfig(name=r["name"], type=r["type"], params=json.loads(r["params"]))
        for r in conn.execute("SELECT * FROM destinations ORDER BY name")
    )
    routes: dict[tuple[str, str], list[TickerDestination]] = {}
    for r in conn.execute("SELECT * FROM ticker_destinations ORDER BY rowid"):
        routes.setdefault((r["strategy"], r["ticker"]), []).append(TickerDestination(
            destination=r["destination"],
            qty=None if r["qty"] is None else Decimal(r["qty"]),
            multiplier=None if r["multiplier"] is None else Decimal(r["multiplier"]),
            instrument=r["instrument"], options=json.loads(r["options"]),
        ))
    tickers: dict[str, list[TickerConfig]] = {}
    for r in conn.execute("SELECT * FROM strategy_tickers ORDER BY strategy, seq"):
        tickers.setdefault(r["strategy"], []).append(TickerConfig(
            ticker=r["ticker"], enabled=bool(r["enabled"]), ports=tuple(json.loads(r["ports"])),
            destinations=tuple(routes.get((r["strategy"], r["ticker"]), ())), options=json.loads(r["options"]),
        ))
    strategies = tuple(
        StrategyConfig(
            name=r["name"], enabled=bool(r["enabled"]), accounts=json.loads(r["accounts"]),
            tickers=tuple(tickers.get(r["name"], ())), options=json.loads(r["options"]),
        )
        for r in conn.execute("SELECT * FROM strategies ORDER BY seq, name")
    )
    return RoutingConfig(revision=revision, strategies=strategies, destinations=destinations)


def _export_strategy(strategy: StrategyConfig) -> dict[str, Any]:
    return {
        "enabled": strategy.enabled,
        "accounts": strategy.accounts,
        **strategy.options,
        "tickers": {
            t.ticker: {
                "enabled": t.enabled,
                "ports": list(t.ports),
                **t.options,
                "destinations": {
                    r.destination: {
                        k: val for k, val in (
                            ("qty", json_number(r.qty)), ("multiplier", json_number(r.multiplier)),
                            ("instrument", r.instrument),
                        ) if val is not None
                    } | r.options
                    for r in t.destinations
                },
            }
            for t in strategy.tickers
        },
    }


__all__ = ["ConfigRepository", "ConfigError", "Invalid", "check_document", "json_number", "write_strategy", "bump_revision"]
