""""Test connection" and "Test login" for the window: `TestCredentials` answered by `CredentialsTested`.

Each check talks to the real service the way the broker would, trades nothing and
leaves nothing behind: IB connects with a client id of its own (so a connected broker
is not thrown off) and disconnects; Tastytrade logs in and lists the accounts.
Other kinds (`databento`, in marketdata) are handed in by the composition root.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Any, Awaitable, Callable

from station.bus import Bus
from station.domain.commands import TestCredentials
from station.domain.events import CredentialsTested
from station.secrets import SecretStore

log = logging.getLogger("station.brokers")

Check = Callable[[dict[str, Any]], Awaitable[str]]  # params -> what worked; raises with what did not
PROBE_CLIENT_OFFSET = 10_000  # the test's IB client id: the configured one + this, never the broker's own
IB_TIMEOUT_S = 8.0
CHECK_TIMEOUT_S = 30.0


class CheckFailed(RuntimeError):
    """A check's clear answer: what was refused or not reached, and what to do."""


async def check_ib(params: dict[str, Any]) -> str:
    """Connect to TWS / IB Gateway at host:port and disconnect; the accounts it manages."""
    host, port = str(params.get("host") or "127.0.0.1"), int(params.get("port") or 7497)
    client_id = (int(params.get("client_id") or 0) + PROBE_CLIENT_OFFSET) % 2**31
    ib_async = await asyncio.to_thread(importlib.import_module, "ib_async")  # ~0.3 s of imports, off the loop
    ib = ib_async.IB()
    try:
        await ib.connectAsync(host, port, clientId=client_id, timeout=IB_TIMEOUT_S, readonly=True,
                              fetchFields=ib_async.StartupFetch(0))
        accounts = ib.managedAccounts()
        version = ib.client.serverVersion()
    except ConnectionRefusedError:
        raise CheckFailed(f"nothing listens at {host}:{port}: start TWS or IB Gateway (API enabled: "
                          "Configure → API → Settings; port 7497 paper TWS, 7496 live, 4002/4001 Gateway)") from None
    except asyncio.TimeoutError:
        raise CheckFailed(f"{host}:{port} did not finish the API handshake in {IB_TIMEOUT_S:g} s: is the API "
                          "enabled and 127.0.0.1 a trusted address?") from None
    except OSError as exc:
        raise CheckFailed(f"cannot reach {host}:{port}: {exc.strerror or exc}") from None
    finally:
        ib.disconnect()
    wanted = params.get("account")
    if wanted and wanted not in accounts:
        raise CheckFailed(f"connected, but account {wanted} is not managed by this login "
                          f"(it manages {', '.join(accounts) or 'none'})")
    return f"connected to TWS/IB Gateway v{version} at {host}:{port}; accounts: {', '.join(accounts) or 'none'}"


def tastytrade_check(secrets: SecretStore) -> Check:
    """Log in to Tastytrade (sandbox or production, as the destination says) and list the accounts."""

    async def check(params: dict[str, Any]) -> str:
        from station.brokers.rest.client import AuthError, RejectedError, TransientError
        from station.brokers.tastytrade import parsing
        from station.brokers.tastytrade.api import TastytradeApi

        base_url = params.get("base_url") or (parsing.SANDBOX_URL if params.get("sandbox") else parsing.PRODUCTION_URL)
        api = TastytradeApi(secrets, base_url=base_url, account=params.get("account") or None)
        where = "the sandbox" if params.get("sandbox") and not params.get("base_url") else base_url
        try:
            await api.connect()
        except (AuthError, RejectedError, TransientError) as exc:
            raise CheckFailed(f"{where}: {exc}") from None
        finally:
            await api.close()
        return f"logged in to {where}: {api.description}"

    return check


class CredentialChecks:
    """Component `credential-checks`: runs the check a `TestCredentials` names, answers `CredentialsTested`."""

    name = "credential-checks"

    def __init__(self, bus: Bus, checks: dict[str, Check]) -> None:
        self.bus, self.checks = bus, checks
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        self._unsubscribe = self.bus.subscribe(TestCredentials, self.on_test)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def on_test(self, command: TestCredentials) -> None:
        check = self.checks.get(command.kind)
        if check is None:
            self._answer(command, False, f"nothing to test for {command.kind!r}")
            return
        try:
            message = await asyncio.wait_for(check(dict(command.params)), CHECK_TIMEOUT_S)
        except asyncio.TimeoutError:
            self._answer(command, False, f"no answer within {CHECK_TIMEOUT_S:g} s")
        except Exception as exc:  # each check raises with a clear line (CheckFailed or its own kind)
            log.info("testing %s: %s", command.kind, exc)
            self._answer(command, False, str(exc) or type(exc).__name__)
        else:
            self._answer(command, True, message)

    def _answer(self, command: TestCredentials, ok: bool, message: str) -> None:
        self.bus.publish(CredentialsTested(command.request_id, ok, message))
