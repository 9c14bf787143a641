"""`build()`: the IB destination as the oms's broker registry makes it from a config entry.

This is a composition seam (like `station/app.py`): it hands the broker a reader of
the user's contract table, so the broker itself never imports the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from station.brokers.ib.broker import IBBroker
from station.brokers.ib.config import IBSettings
from station.bus import Bus


def build(destination_config: Any, bus: Bus, data_dir_or_store: Any = None) -> IBBroker:
    """An `IBBroker` for one `{"type": "ib", …}` destination.

    `destination_config` is a `DestinationConfig` (or a mapping with `name` and the
    parameters); `data_dir_or_store` is the running `Store` whose `ib_contracts`
    table maps symbols, a data folder to open it from, or None for the built-in rules only.
    """
    if isinstance(destination_config, Mapping):
        name, params = str(destination_config["name"]), dict(destination_config)
    else:
        name, params = destination_config.name, dict(destination_config.params)
    return IBBroker(name, IBSettings.from_params(params), bus, mappings=_mapping_source(data_dir_or_store))


def _mapping_source(data_dir_or_store: Any):
    if data_dir_or_store is None:
        return tuple
    from station.store.ib_contract_repo import IbContractRepository

    if isinstance(data_dir_or_store, (str, Path)):
        from station.store import Store

        data_dir_or_store = Store(Path(data_dir_or_store))
    return IbContractRepository(data_dir_or_store).all
