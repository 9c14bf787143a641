"""A strategy's `state` as the REST API shows it, and switching its trading on or off.

An engine strategy (one with an `engine` object) shows what the engine says: `stopped`,
`warming_up`, `running` or `halted`, with the `reason`. A plain strategy takes alerts while
it is on (`running`), none while off (`stopped`), and none while the kill switch is engaged
(`halted`, with the kill switch's reason).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from station.bus import Bus

if TYPE_CHECKING:
    from station.web.api.routes import ApiParts

SETTLE_S = 5.0  # CONTRACT.md: the state reads running (or warming_up) / stopped within 5 s
POLL_S = 0.05
ACTIVE = ("warming_up", "running")


class StrategyStates:
    """Reads states through the engine's and the book's queries; switches through `StrategySwitch`."""

    FIELDS = ("state", "reason")

    def __init__(self, bus: Bus, parts: "ApiParts") -> None:
        self.bus = bus
        self.config, self.engine, self.book, self.switcher = parts.config, parts.engine, parts.book, parts.switch

    def of(self, name: str) -> dict[str, Any]:
        """`{"state": …, "reason": …}` of one strategy (assumed to exist)."""
        for row in self.engine.snapshot():
            if row["name"] == name:
                return {"state": row["state"], "reason": row["reason"] or None}
        strategy = self.config.load().strategy(name)
        if strategy is None or not strategy.enabled:
            return {"state": "stopped", "reason": None}
        if strategy.options.get("engine"):  # the engine has not read this config yet
            return {"state": "stopped", "reason": "the engine is starting"}
        if self.book.kill_switch_reason is not None:
            return {"state": "halted", "reason": f"kill switch: {self.book.kill_switch_reason}"}
        return {"state": "running", "reason": None}

    async def switch(self, name: str, running: bool) -> int:
        """Trading on or off (committed); the new config revision. KeyError for an unknown name."""
        return await self.switcher.set_running(name, running)

    async def settled(self, name: str, running: bool, before: dict[str, Any],
                      timeout: float = SETTLE_S) -> dict[str, Any]:
        """The state once the engine has followed the switch (active, or newly halted, after a start; stopped after
        a stop), or as it stands when `timeout` passes. `before` is the state before the switch."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            state = self.of(name)
            if running:
                done = state["state"] in ACTIVE or (state["state"] == "halted" and state != before)
            else:
                done = state["state"] not in ACTIVE
            if done or loop.time() > deadline:
                return state
            await asyncio.sleep(POLL_S)
