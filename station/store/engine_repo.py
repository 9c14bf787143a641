"""The engine's durable state: which strategies run, and each instrument's trading state after its last signal.

The connection directly, not sqlite-utils: one prepared upsert (`ON CONFLICT … DO UPDATE`)
per signal, on the engine's path; sqlite-utils' `upsert` inspects the table on every call.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future
from typing import Any

from station.domain.timeutil import utc_now
from station.store.database import Store

log = logging.getLogger("station.store")


def _report(what: str):
    def done(future: Future) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.error("could not save %s", what, exc_info=future.exception())
    return done


class EngineStateRepository:
    """Reads on the caller's thread; writes go through the store's writer (group-committed)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def desired(self) -> dict[str, str]:
        """strategy → `running` or `stopped`, as the trader last left it."""
        return {r["strategy"]: r["desired"] for r in self.store.query("SELECT strategy, desired FROM engine_strategies")}

    async def desired_in_order(self) -> dict[str, str]:
        """As `desired`, read in the writer after every write queued before it (the engine's own included)."""
        return await self.store.writer.run(
            lambda conn: {r[0]: r[1] for r in conn.execute("SELECT strategy, desired FROM engine_strategies")})

    def set_run_state(self, strategy: str, desired: str | None, state: str, reason: str = "") -> Future:
        """Remember what `strategy` shows now and, unless `desired` is None, whether it should run."""
        at = utc_now().isoformat()
        future = self.store.writer.submit(lambda conn: conn.execute(
            "INSERT INTO engine_strategies (strategy, desired, state, reason, updated_at) "
            "VALUES (?, COALESCE(?, 'stopped'), ?, ?, ?) "
            "ON CONFLICT(strategy) DO UPDATE SET desired = COALESCE(?, engine_strategies.desired), "
            "state = excluded.state, reason = excluded.reason, updated_at = excluded.updated_at",
            (strategy, desired, state, reason, at, desired)))
        future.add_done_callback(_report(f"the run state of {strategy}"))
        return future

    def load(self, strategy: str) -> dict[str, dict[str, Any]]:
        """ticker → persisted trading state of one strategy."""
        rows = self.store.query("SELECT ticker, state FROM engine_state WHERE strategy = ?", (strategy,))
        return {r["ticker"]: json.loads(r["state"]) for r in rows}

    def save(self, strategy: str, ticker: str, state: dict[str, Any], last_signal_id: str | None) -> Future:
        """Persist one instrument's trading state (the future resolves once committed)."""
        text = json.dumps(state, sort_keys=True, default=str)
        at = utc_now().isoformat()
        future = self.store.writer.submit(lambda conn: conn.execute(
            "INSERT INTO engine_state (strategy, ticker, state, last_signal_id, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(strategy, ticker) DO UPDATE SET state = excluded.state, "
            "last_signal_id = COALESCE(excluded.last_signal_id, engine_state.last_signal_id), updated_at = excluded.updated_at",
            (strategy, ticker, text, last_signal_id, at)))
        future.add_done_callback(_report(f"the trading state of {strategy} {ticker}"))
        return future
