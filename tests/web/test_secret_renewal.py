"""RenewSecret: the owner of a generated secret replaces it, then SecretChanged; an unknown name is refused."""

from station.bus import Bus
from station.domain.commands import RenewSecret
from station.domain.events import ErrorRaised, SecretChanged
from station.web.secret_renewal import SecretRenewal


async def test_a_secret_is_renewed_by_its_owner_then_announced():
    bus, renewed, heard = Bus(), [], []

    async def renew():
        renewed.append("api-token")

    bus.subscribe(RenewSecret, SecretRenewal(bus, {"api-token": renew}).on_renew)
    bus.subscribe(SecretChanged, lambda event: heard.append(("changed", event.name, list(renewed))))
    bus.subscribe(ErrorRaised, lambda event: heard.append(("error", event.message)))
    bus.publish(RenewSecret("api-token"))
    bus.publish(RenewSecret("databento-key"))
    await bus.drain()
    assert heard[0] == ("changed", "api-token", ["api-token"])  # announced after the new one is in force
    assert heard[1][0] == "error" and "databento-key is not a secret Station renews" in heard[1][1]
    assert len(heard) == 2
