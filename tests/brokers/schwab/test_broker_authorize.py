"""`station broker authorize schwab` as a trader runs it, against the Schwab double; then the broker connects."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from urllib.parse import quote

from support.broker_harness import FAST, Recorder
from support.schwab_double import APP_KEY, APP_SECRET, CALLBACK
from station.brokers.registry import BrokerContext
from station.brokers.schwab import build
from station.bus import Bus
from station.store import Store
from station.store.config_repo import ConfigRepository
from station.secrets import SecretStore


async def station(env: dict, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """Run the CLI without blocking the loop the double answers on."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "station", *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, **env})
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 60)
    return proc.returncode, out.decode(), err.decode()


def configure(data_dir, double) -> None:
    store = Store(data_dir)
    try:
        ConfigRepository(store).import_document({"destinations": {
            "schwab-ira": {"type": "schwab", "base_url": double.url, "callback_url": CALLBACK}}})
    finally:
        store.close()


async def test_authorize_stores_the_refresh_token_and_the_broker_connects(data_dir, keyring_env, double):
    configure(data_dir, double)
    code, _, err = await station(keyring_env, "broker", "authorize", "schwab", "--data-dir", str(data_dir))
    assert code == 2 and "station secret set schwab-app-key" in err and len(err.strip().splitlines()) == 1

    secrets = SecretStore.system()
    secrets.set("schwab-app-key", APP_KEY)
    secrets.set("schwab-app-secret", APP_SECRET)
    redirected = f"{CALLBACK}/?code={quote(double.issue_code())}&session=9f2c"
    code, out, err = await station(keyring_env, "broker", "authorize", "schwab", "--data-dir", str(data_dir),
                                   stdin=redirected + "\n")
    assert code == 0, err
    login_line = next(line for line in out.splitlines() if "/v1/oauth/authorize?" in line)
    assert f"client_id={APP_KEY}" in login_line and f"redirect_uri={quote(CALLBACK, safe='')}" in login_line
    assert "schwab-refresh-token" in out and "7 days" in out
    refresh = secrets.get("schwab-refresh-token")
    assert refresh is not None and refresh.reveal() in double.refresh_tokens
    assert refresh.reveal() not in out + err

    bus = Bus()
    seen = Recorder(bus)
    store = Store(data_dir)
    try:
        destination = ConfigRepository(store).load().destination("schwab-ira")
    finally:
        store.close()
    broker = build(destination, BrokerContext(bus, data_dir, secrets=secrets), **FAST)
    await broker.start()
    try:
        await seen.connected(broker)
    finally:
        await broker.stop()


async def test_authorize_refuses_a_bad_or_used_code(data_dir, keyring_env, double, capsys, monkeypatch):
    from station import cli

    configure(data_dir, double)
    secrets = SecretStore.system()
    secrets.set("schwab-app-key", APP_KEY)
    secrets.set("schwab-app-secret", APP_SECRET)

    async def run(*args: str, stdin: str = "") -> tuple[int, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = await asyncio.to_thread(cli.main, ["broker", "authorize", "schwab", "--data-dir", str(data_dir), *args])
        return code, capsys.readouterr().err

    code, err = await run("--redirect-url", f"{CALLBACK}/?session=1")
    assert code == 2 and "no ?code=" in err
    code, err = await run("--redirect-url", f"{CALLBACK}/?code=C0.stale%40")
    assert code == 2 and "Bad authorization code" in err and "30 seconds" in err
    code, err = await run(stdin="\n")
    assert code == 2 and "nothing stored" in err
    code, err = await run("--destination", "nope")
    assert code == 2 and "schwab-ira" in err
    assert secrets.get("schwab-refresh-token") is None
