"""Interactive Brokers through ib_async: orders, fills, positions, market data, and the daily restart.

`build(destination_config, bus, store)` makes the broker (see `factory.py`); ib_async
itself is imported only once a broker starts connecting.
"""

from __future__ import annotations


def build(destination_config, bus, data_dir_or_store=None):
    """See `station.brokers.ib.factory.build`."""
    from station.brokers.ib.factory import build as _build

    return _build(destination_config, bus, data_dir_or_store)
