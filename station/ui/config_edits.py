"""The window's changes to the configuration and the IB contract table, each announced on the bus.

They go through the store's editors (`queries.ConfigEditor`, `queries.IbContractEditor`);
once committed, `ConfigChanged` tells every part at once (the webhook re-applies its
settings, the router and the docks reload) instead of waiting for the config watcher.
A refused change (ConfigError) changes nothing and announces nothing.
"""

from __future__ import annotations

from typing import Any, Callable

from station.domain.contract_map import ContractMapping
from station.domain.events import ConfigChanged
from station.queries import ConfigEditor, ConfigQueries, IbContractEditor


class ConfigEdits:
    """Config and contract-table writes for docks and dialogs; each resolves to the new revision."""

    def __init__(self, config: ConfigEditor, contracts: IbContractEditor, reader: ConfigQueries,
                 publish: Callable[[Any], None], announced: Callable[[], int] = lambda: -1) -> None:
        self._config, self._contracts, self._reader, self._publish = config, contracts, reader, publish
        self._announced = announced  # the newest revision already announced (the config watcher's)

    def _announce(self, revision: int) -> int:
        if self._announced() < revision:  # the watcher may have seen the commit before this coroutine resumed
            self._publish(ConfigChanged(revision))
        return revision

    async def import_document(self, document: Any) -> int:
        """Check and apply a config document (a file, or an editor's part of one)."""
        return self._announce(await self._config.import_document_async(document))

    async def update_settings(self, section: str, values: dict[str, Any]) -> int:
        return self._announce(await self._config.update_settings(section, values))

    async def save_strategy(self, name: str, spec: Any) -> int:
        return self._announce(await self._config.save_strategy(name, spec))

    async def set_strategy_enabled(self, name: str, enabled: bool) -> int:
        return self._announce(await self._config.set_strategy_enabled(name, enabled))

    async def rename_strategy(self, old: str, new: str) -> int:
        return self._announce(await self._config.rename_strategy(old, new))

    async def delete_strategy(self, name: str) -> int:
        return self._announce(await self._config.delete_strategy(name))

    async def save_destination(self, name: str, spec: Any) -> int:
        return self._announce(await self._config.save_destination(name, spec))

    async def delete_destination(self, name: str) -> int:
        return self._announce(await self._config.delete_destination(name))

    async def save_ib_contract(self, mapping: ContractMapping, replacing: str | None = None) -> int:
        """Store a row of the IB contract table (the running IB brokers pick it up with the revision)."""
        return self._announce(await self._contracts.save(mapping, replacing=replacing))

    async def delete_ib_contract(self, tv_symbol: str) -> bool:
        """Remove a row; False if there was none (nothing announced)."""
        gone = await self._contracts.delete(tv_symbol)
        if gone:
            self._announce(self._reader.revision())
        return gone
