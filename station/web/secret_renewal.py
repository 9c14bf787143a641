"""Renewing the secrets Station generates (the webhook passphrase, the REST API token) when asked.

The window asks with `RenewSecret(name)`; the part that holds the secret makes a new one and
puts it in force, then `SecretChanged(name)` follows, so whoever shows it reads it again.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from station.bus import Bus
from station.domain.commands import RenewSecret
from station.domain.events import ErrorRaised, SecretChanged

log = logging.getLogger("station.web")


class SecretRenewal:
    """Answers `RenewSecret` for the secrets named in `renewers` (name -> coroutine making a new one)."""

    def __init__(self, bus: Bus, renewers: dict[str, Callable[[], Awaitable[Any]]]) -> None:
        self.bus = bus
        self._renewers = renewers

    async def on_renew(self, command: RenewSecret) -> None:
        """Renew the named secret through its owner, then announce it; an unknown name is an error shown."""
        renew = self._renewers.get(command.name)
        if renew is None:
            self.bus.publish(ErrorRaised("secrets", f"{command.name} is not a secret Station renews; "
                                                    f"set it with `station secret set {command.name}`"))
            return
        await renew()  # a keyring failure reaches the trader as ErrorRaised (the bus reports it)
        log.info("secret %s renewed", command.name)
        self.bus.publish(SecretChanged(command.name))
