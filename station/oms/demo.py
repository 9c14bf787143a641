"""The demo's routing: with no strategy configured, one visible strategy sends ES and NQ to paper."""

from __future__ import annotations

import logging

from station.store.config_repo import ConfigRepository

log = logging.getLogger("station.oms")

DEMO_STRATEGY = "Demo"
DEMO_DOCUMENT = {
    "destinations": {"paper": {"type": "paper"}},
    "strategies": {DEMO_STRATEGY: {"enabled": True, "tickers": {
        "ES": {"point_value": 50, "destinations": {"paper": {"qty": 1}}},
        "NQ": {"point_value": 20, "destinations": {"paper": {"qty": 1}}},
    }}},
}


async def seed_demo(config: ConfigRepository) -> bool:
    """Seed the demo strategy if no strategy exists; True if it did."""
    if config.load().strategies:
        return False
    await config.import_document_async(DEMO_DOCUMENT)
    log.info("demo: strategy %s routes ES and NQ to the paper broker", DEMO_STRATEGY)
    return True
