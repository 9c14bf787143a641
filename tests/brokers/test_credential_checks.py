""""Test connection", "Test login" and "Test key" against the loopback doubles: a clear green or red answer."""

from __future__ import annotations

import asyncio

import pytest

from support.databento_http import HistoricalDouble, make_certificate
from support.fake_tws import FakeTWS
from support.launch import free_port
from support.tastytrade_double import ACCOUNT, CLIENT_SECRET, TastytradeDouble
from support.wait import until
from station.brokers.credential_checks import CredentialChecks, check_ib, tastytrade_check
from station.bus import Bus
from station.domain.commands import TestCredentials
from station.domain.events import CredentialsTested
from station.marketdata.databento.key_check import databento_key_check

KEY = "db-TestKeyForTheDoubleXXXXXXXXXX"


@pytest.fixture
async def checks(secrets):
    """`await ask(kind, **params)` -> CredentialsTested, through the bus as the window asks."""
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    answers: list[CredentialsTested] = []
    bus.subscribe(CredentialsTested, answers.append)
    component = CredentialChecks(bus, {"ib": check_ib, "tastytrade": tastytrade_check(secrets),
                                       "databento": databento_key_check(secrets)})
    await component.start()

    async def ask(kind: str, **params) -> CredentialsTested:
        request_id = f"r{len(answers)}-{kind}"
        bus.publish(TestCredentials(request_id, kind, tuple(params.items())))
        return (await until(lambda: [a for a in answers if a.request_id == request_id], 20, what=kind))[0]

    yield ask
    await component.stop()


async def test_ib_connects_with_a_client_id_of_its_own_and_leaves(checks):
    tws = FakeTWS(account="DU777001")
    port = await tws.start()
    try:
        ok = await checks("ib", host="127.0.0.1", port=port, client_id=7)
        wrong_account = await checks("ib", host="127.0.0.1", port=port, client_id=7, account="DU999")
        clients = {client for _, client, _, _ in tws.received if client != -1}
        await until(lambda: not tws.sessions, what="the test's sessions closed")
    finally:
        await tws.stop()
    assert ok.ok and "DU777001" in ok.message and f"127.0.0.1:{port}" in ok.message
    assert not wrong_account.ok and "DU999" in wrong_account.message and "DU777001" in wrong_account.message
    assert clients == {10_007}


async def test_ib_says_when_nothing_listens(checks):
    port = free_port()
    answer = await checks("ib", host="127.0.0.1", port=port, client_id=1)
    assert not answer.ok and f"nothing listens at 127.0.0.1:{port}" in answer.message and "TWS" in answer.message


async def test_tastytrade_logs_in_and_names_the_account(checks, secrets):
    double = await TastytradeDouble().start()
    try:
        missing = await checks("tastytrade", base_url=double.url)
        secrets.set("tastytrade-client-secret", CLIENT_SECRET)
        secrets.set("tastytrade-refresh-token", double.issue_refresh_token())
        ok = await checks("tastytrade", base_url=double.url)
        secrets.set("tastytrade-refresh-token", "not-a-grant")
        refused = await checks("tastytrade", base_url=double.url)
    finally:
        await double.stop()
    assert not missing.ok and "station secret set tastytrade-client-secret" in missing.message
    assert ok.ok and ACCOUNT in ok.message
    assert not refused.ok and "refused" in refused.message and "not-a-grant" not in refused.message


async def test_databento_key_is_checked_by_a_free_metadata_call(checks, secrets, tmp_path, monkeypatch):
    import numpy as np

    cert, key = make_certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    double = HistoricalDouble(KEY, np.zeros(0), {})
    await double.start(cert, key)
    try:
        missing = await checks("databento", gateway=double.gateway)
        secrets.set("databento-key", KEY)
        ok = await checks("databento", gateway=double.gateway)
        secrets.set("databento-key", "db-WrongKeyXXXXXXXXXXXXXXXXXXXXXX")
        refused = await checks("databento", gateway=double.gateway)
        calls = [endpoint for endpoint, _ in double.calls]
    finally:
        await double.stop()
    assert not missing.ok and "no Databento key" in missing.message
    assert ok.ok and "3 datasets" in ok.message and "GLBX.MDP3" in ok.message and "nothing was charged" in ok.message
    assert not refused.ok and "refused the key" in refused.message and "WrongKey" not in refused.message
    assert calls == ["metadata.list_datasets", "metadata.list_datasets"]  # nothing that costs


async def test_an_unknown_kind_is_answered_too(checks):
    answer = await checks("fax")
    assert not answer.ok and "fax" in answer.message
