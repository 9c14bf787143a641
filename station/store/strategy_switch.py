"""Trading of one strategy on or off, from the REST API, the command line or the window.

One writer job sets the strategy's `enabled` flag (a plain strategy takes alerts while it
is on) and the engine's wish (`engine_strategies.desired`: a strategy with an `engine` runs
while it is `running`), and bumps the config revision in the same transaction: a running
Station (its config watcher, or the announcement of the caller in the same process) sees
both at once and its engine follows. The connection directly: two statements and a bump.
"""

from __future__ import annotations

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

    def run_states(self) -> dict[str, tuple[str, str, str]]:
        """strategy → (desired, last state shown, its reason) as the engine last recorded them."""
        rows = self.store.query("SELECT strategy, desired, state, reason FROM engine_strategies")
        return {r["strategy"]: (r["desired"], r["state"], r["reason"]) for r in rows}
