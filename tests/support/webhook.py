"""Helpers for the webhook tests: a real Station on 127.0.0.1 and a real HTTP client."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from support.contract import DIALECT_1, DIALECT_2, DIALECT_3, EXAMPLE_PORTS  # noqa: F401  (the contract's payloads)
from station.app import Options, Station

PASSPHRASE = "correct horse battery staple"
CONFIG = EXAMPLE_PORTS


@asynccontextmanager
async def running_station(data_dir: Path, secrets, settings: dict | None = None, config: dict | None = None,
                          passphrase: str | None = PASSPHRASE):
    """A started Station with the given webhook settings; stopped afterwards."""
    if passphrase is not None:
        secrets.set("webhook-passphrase", passphrase)
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document({**(config if config is not None else CONFIG),
                                    "settings": {"webhook": settings or {}}})
    await station.start()
    try:
        yield station
    finally:
        await station.stop()


async def post(station: Station, body: Any, *, path: str = "/webhook", passphrase: str | None = PASSPHRASE,
               headers: dict | None = None, session: aiohttp.ClientSession | None = None) -> tuple[int, dict, Any]:
    """POST `body` (a dict gets the passphrase and is sent as JSON text; bytes as they are)."""
    if isinstance(body, dict):
        if passphrase is not None:
            body = {"passphrase": passphrase, **body}
        data = json.dumps(body).encode()
    else:
        data = body
    headers = {"Content-Type": "application/json", **(headers or {})}
    own = session is None
    session = session or aiohttp.ClientSession()
    try:
        async with session.post(f"{station.receiver.url}{path}", data=data, headers=headers) as response:
            assert response.content_type == "application/json", await response.text()
            return response.status, await response.json(), response.headers
    finally:
        if own:
            await session.close()


def rows(station: Station) -> list[dict]:
    """Every journal row, oldest first."""
    return [dict(r) for r in station.store.query("SELECT * FROM alerts ORDER BY alert_id")]


class Headless:
    """`station --headless` as a subprocess with its output in files (a flood never fills a pipe)."""

    def __init__(self, data_dir: Path, env: dict[str, str], port: int) -> None:
        import os
        import subprocess
        import sys

        self.data_dir, self.port = data_dir, port
        self.url = f"http://127.0.0.1:{port}"
        self.stdout_path = data_dir.parent / f"station-{port}.out"
        with open(self.stdout_path, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "station", "--headless", "--data-dir", str(data_dir), "--port", str(port)],
                env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 15.0) -> None:
        from support.launch import wait_http

        wait_http(f"{self.url}/health", timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace")


def prepare_headless(data_dir: Path, env: dict[str, str], settings: dict | None = None,
                     passphrase: str | None = PASSPHRASE) -> None:
    """Set the passphrase and import the config (with webhook settings) as a user would, by the CLI."""
    from support.launch import run_cli

    if passphrase is not None:
        assert run_cli("secret", "set", "webhook-passphrase", env=env, input=passphrase + "\n").returncode == 0
    config = data_dir.parent / "config.json"
    config.write_text(json.dumps({**CONFIG, "settings": {"webhook": settings or {}}}))
    result = run_cli("config", "import", str(config), "--data-dir", str(data_dir), env=env)
    assert result.returncode == 0, result.stderr


def journal(data_dir: Path) -> list[dict]:
    """The journal rows read straight from the database file."""
    import sqlite3

    conn = sqlite3.connect(data_dir / "station.db")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM alerts ORDER BY alert_id")]
    finally:
        conn.close()
