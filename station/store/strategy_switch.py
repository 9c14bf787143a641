"""Trading of one strategy on or off, from the REST API, the command line or the window.

One writer job sets the strategy's `enabled` flag (a plain strategy takes alerts while it
is on) and the engine's wish (`engine_strategies.desired`: a strategy with an `engine` runs
while it is `running`), and bumps the config revision in the same transaction: a running
Station (its config watcher, or the announcement of the caller in the same process) sees
both at once and its engine follows. The connection directly: two statements and a bump.
"""

from __future__ import annotations

import json
import sqlite3

from station.domain.timeutil import utc_now
from station.store.config_repo import bump_revision
from station.store.database import Store


def _switch(conn: sqlite3.Connection, name: str, running: bool) -> int:
    if not conn.execute("UPDATE strategies SET enabled = ? WHERE name = ?", (int(running), name)).rowcount:
        raise KeyError(name)
    desired = "running" if running else "stopped"
    conn.execute(
        "INSERT INTO engine_strategies (strategy, desired, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(strategy) DO UPDATE SET desired = excluded.desired, updated_at = excluded.updated_at",
        (name, desired, utc_now().isoformat()))
    return bump_revision(conn)


class StrategySwitchRepository:
    """`queries.StrategySwitch` over SQLite; KeyError for a strategy the config does not have."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def set_running(self, name: str, running: bool) -> int:
        """On or off; the new config revision once committed."""
        return await self.store.writer.run(lambda conn: _switch(conn, name, running))

    def set_running_now(self, name: str, running: bool) -> int:
        """As `set_running`, blocking (the command line)."""
        return self.store.writer.call(lambda conn: _switch(conn, name, running))

    def listing(self, station_running: bool) -> list[tuple[str, str, str, str]]:
        """(name, kind, state, reason) of every strategy, as `station strategy list` shows them.

        A plain strategy's kind is `alerts`; an engine strategy's state is the one the running
        Station last recorded, or `stopped` when none runs on this data dir.
        """
        from station.store.config_repo import ConfigRepository

        engine = {r["strategy"]: r for r in self.store.query("SELECT * FROM engine_strategies")}
        kill = self.store.query("SELECT value FROM oms_state WHERE key = 'kill_switch'")
        kill_reason = (json.loads(kill[0]["value"]) or {}).get("reason") if kill else None
        rows = []
        for strategy in ConfigRepository(self.store).load().strategies:
            kind = (strategy.options.get("engine") or {}).get("kind")
            row = engine.get(strategy.name)
            if not strategy.enabled:
                rows.append((strategy.name, kind or "alerts", "stopped", "" if kind else "takes no alerts"))
            elif kind is None:
                rows.append((strategy.name, "alerts", "halted" if kill_reason else "running",
                             f"kill switch: {kill_reason}" if kill_reason else "takes alerts"))
            elif not station_running:
                wish = row is not None and row["desired"] == "running"
                rows.append((strategy.name, kind, "stopped",
                             "starts with Station" if wish else "Station is not running"))
            else:
                rows.append((strategy.name, kind, row["state"] if row else "stopped", row["reason"] if row else ""))
        return rows
