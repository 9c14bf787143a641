"""The IB contract table: stored in SQLite, edited live, used by the broker for orders and lookups."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from decimal import Decimal

import pytest

from support.fake_tws import FakeTWS
from support.ib import fake, make_broker, request, wait_until  # noqa: F401 - fixtures
from station.brokers.ib import build
from station.brokers.registry import BrokerContext
from station.bus import Bus
from station.domain.commands import ResolveContract
from station.domain.config import DestinationConfig
from station.domain.contract_map import ContractMapping
from station.domain.enums import ConnectionState
from station.domain.events import ConfigChanged, ContractResolved
from station.store import Store
from station.store.config_repo import ConfigRepository
from station.store.ib_contract_repo import IbContractRepository


@pytest.fixture
def store(data_dir):
    store = Store(data_dir)
    yield store
    store.close()


async def test_the_table_starts_with_index_futures_and_is_edited_with_revisions(store):
    repo = IbContractRepository(store)
    config = ConfigRepository(store)
    seeded = {m.tv_symbol: m for m in repo.all()}
    assert {"ES1!", "MES1!", "NQ1!", "MNQ1!", "SPX"} <= set(seeded)
    assert seeded["MES1!"].rule() == "front month; rolls 8 days before the last trading day"
    before = config.revision()
    row = ContractMapping("ESMINI", "FUT", "MES", exchange="CME", roll_days=5, note="my micro")
    assert await repo.save(row) == before + 1
    assert repo.get("ESMINI") == row
    renamed = ContractMapping("MICRO", "FUT", "MES", exchange="CME", roll_days=5)
    await repo.save(renamed, replacing="ESMINI")
    assert repo.get("ESMINI") is None and repo.get("MICRO") == renamed
    option = ContractMapping("SPX_C1", "OPT", "SPX", right="C", strike_offset=1, trading_class="SPXW",
                             strike=Decimal("5800.5"))
    await repo.save(option)
    assert repo.get("SPX_C1").strike == Decimal("5800.5")
    assert await repo.delete("MICRO") is True
    assert await repo.delete("MICRO") is False
    assert config.revision() == before + 4


async def test_a_table_row_decides_the_contract_and_an_edit_applies_without_restart(store, data_dir):
    repo = IbContractRepository(store)
    await repo.save(ContractMapping("ES1!", "FUT", "MES", exchange="CME", roll_days=8, note="trade micros"))
    fake = FakeTWS()  # lists contracts from the real today, as the broker built by `build` sees it
    await fake.start()
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    context = BrokerContext(bus, data_dir, contracts=repo)
    broker = build(DestinationConfig("ib", "ib", {"host": "127.0.0.1", "port": fake.port, "client_id": 9,
                                                   "account": "DU123456"}), context)
    await broker.start()
    try:
        await wait_until(lambda: broker.state is ConnectionState.CONNECTED, what="connected")
        first = request("ES1!")
        await broker.submit(first)
        await wait_until(lambda: fake.placed(), what="placed")
        assert fake.placed()[0].sec.symbol == "MES"
        await repo.save(ContractMapping("ES1!", "FUT", "ES", exchange="CME"))
        bus.publish(ConfigChanged(ConfigRepository(store).revision()))  # what the ConfigWatcher publishes
        await broker.submit(request("ES1!"))
        await wait_until(lambda: len(fake.placed()) == 2, what="second placed")
        assert fake.placed()[1].sec.symbol == "ES"
    finally:
        await broker.stop()
        await fake.stop()


async def test_resolve_contract_answers_with_the_contract_and_its_roll_date(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port)
    bus.publish(ResolveContract("ib", "MES1!"))
    bus.publish(ResolveContract("other", "MES1!"))  # another destination's question: not ours to answer
    bus.publish(ResolveContract("ib", "NOPE9!"))
    await wait_until(lambda: len(rec.by_kind[ContractResolved]) == 2, what="answers")
    good, bad = sorted(rec.by_kind[ContractResolved], key=lambda e: e.symbol)
    front = fake.securities.quarterly_expiries(1)[0]
    assert good.symbol == "MES1!" and not good.error
    assert f"expires {front:%Y-%m-%d}" in good.description and "rolls" in good.description
    assert good.description.startswith("FUT MES")
    assert bad.error and "NOPE9!" in bad.error


def test_build_reads_the_destination_and_leaves_ib_async_unimported_until_connecting():
    code = ("import sys\n"
            "from pathlib import Path\n"
            "from station.brokers.ib import build\n"
            "from station.brokers.registry import BrokerContext\n"
            "from station.bus import Bus\n"
            "from station.domain.config import DestinationConfig\n"
            "b = build(DestinationConfig('ib-live', 'ib', {'host': '10.0.0.5', 'port': 4001, 'client_id': 3,"
            " 'account': 'U1', 'market_data': ['AAPL'], 'realtime_bars': True}), BrokerContext(Bus(), Path('.')))\n"
            "print(b.name, b.settings.address, b.settings.client_id, b.settings.market_data, b.state,"
            " 'ib_async' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["ib-live", "10.0.0.5:4001", "3", "('AAPL',)", "disconnected", "False"], out.stderr
