"""The Tastytrade Open API in Station's terms (`BrokerApi` for `RestBroker`), over aiohttp."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Awaitable, Callable

from station import __version__
from station.brokers.rest.client import AuthError, RejectedError, RestClient, TransientError
from station.brokers.rest.balances import BalanceSnapshot
from station.brokers.rest.snapshots import OrderSnapshot, PositionSnapshot
from station.brokers.tastytrade import parsing
from station.brokers.tastytrade.auth import TastytradeAuth
from station.domain.orders import OrderRequest
from station.domain.timeutil import EASTERN
from station.secrets import SecretStore


class TastytradeApi:
    """Accounts, orders and positions of one Tastytrade account."""

    title = "Tastytrade"
    carries_client_ids = True  # `external-identifier`

    def __init__(self, secrets: SecretStore, *, base_url: str, account: str | None = None) -> None:
        self.auth = TastytradeAuth(secrets)
        self.http = RestClient(base_url, self.auth, title=self.title,
                               headers={"User-Agent": f"station/{__version__}"})
        self.account = account
        self._number: str | None = None
        self._complex: dict[str, str] = {}  # an OTOCO's trigger order id -> its complex order id
        self._start_of_day: tuple | None = None  # (date, its beginning-of-day balance snapshot)

    def __repr__(self) -> str:
        return f"TastytradeApi({self.http.base_url!r}, {self.description})"

    @property
    def description(self) -> str:
        return f"Tastytrade account {self._number}" if self._number else "Tastytrade"

    def check(self, request: OrderRequest) -> None:
        parsing.check(request)

    def check_bracket(self, entry: OrderRequest, exits: tuple[OrderRequest, ...]) -> None:
        parsing.check_bracket(entry, exits)

    async def connect(self) -> None:
        response = await self.http.request("GET", "/customers/me/accounts")
        try:
            self._number = parsing.pick_account(response.body, self.account)
        except ValueError as exc:
            raise AuthError(str(exc)) from None

    async def close(self) -> None:
        await self.http.close()

    async def orders(self, since: datetime) -> list[OrderSnapshot]:
        # "live" lists every order created or updated today plus the GTC ones still working;
        # older finished ones are asked for one by one (`order`).
        response = await self.http.request("GET", f"{self._path()}/orders/live")
        self._complex.update(parsing.complex_triggers(response.body))
        return parsing.parse_orders(response.body)

    async def order(self, broker_order_id: str) -> OrderSnapshot | None:
        try:
            response = await self.http.request("GET", f"{self._path()}/orders/{broker_order_id}")
        except RejectedError as exc:
            if exc.status == 404:
                return None
            raise
        data = response.body.get("data") if isinstance(response.body, dict) else None
        self._complex.update(parsing.complex_triggers(response.body))
        return parsing.parse_order(data) if isinstance(data, dict) else None

    async def positions(self) -> list[PositionSnapshot]:
        response = await self.http.request("GET", f"{self._path()}/positions")
        return parsing.parse_positions(response.body)

    async def balances(self) -> BalanceSnapshot:
        today = datetime.now(EASTERN).date()
        if self._start_of_day is None or self._start_of_day[0] != today:  # once a day: it does not move
            response = await self.http.request("GET", f"{self._path()}/balance-snapshots",
                                               params={"snapshot-date": today.isoformat(), "time-of-day": "BOD"})
            self._start_of_day = (today, response.body)
        response = await self.http.request("GET", f"{self._path()}/balances/USD")
        return parsing.parse_balances(response.body, self._start_of_day[1], self._number or "")

    async def place(self, request: OrderRequest, position: Callable[[], Awaitable[Decimal]]) -> str:
        held = await position() if parsing.needs_position(request) else Decimal(0)
        response = await self.http.request("POST", f"{self._path()}/orders", json_body=parsing.order_json(request, held))
        order_id = parsing.placed_order_id(response.body)
        if order_id is None:  # accepted without an id: the external identifier finds it when reconciling
            raise TransientError("Tastytrade accepted the order without an id", sent=True)
        return order_id

    async def place_bracket(self, entry: OrderRequest, exits: tuple[OrderRequest, ...],
                            position: Callable[[], Awaitable[Decimal]]) -> dict[str, str]:
        """An entry with its stop and target as one OTOCO; the ids of its orders by client order id."""
        held = await position() if parsing.needs_position(entry) else Decimal(0)
        body = parsing.bracket_json(entry, exits, held)
        response = await self.http.request("POST", f"{self._path()}/complex-orders", json_body=body)
        ids = parsing.placed_bracket_ids(response.body, entry, exits)
        if entry.client_order_id not in ids:  # accepted without ids: the external identifiers find them
            raise TransientError("Tastytrade accepted the bracket without naming its orders", sent=True)
        placed = (response.body.get("data") or {}).get("complex-order") or {}
        if placed.get("id") is not None:
            self._complex[ids[entry.client_order_id]] = str(placed["id"])
        return ids

    async def cancel(self, broker_order_id: str) -> None:
        complex_id = self._complex.get(broker_order_id)
        if complex_id is not None:  # an OTOCO's entry: its exits go with it (cancelled whole, as documented)
            await self.http.request("DELETE", f"{self._path()}/complex-orders/{complex_id}")
            return
        await self.http.request("DELETE", f"{self._path()}/orders/{broker_order_id}")

    def _path(self) -> str:
        if self._number is None:
            raise TransientError("Tastytrade account not resolved yet", sent=False)
        return f"/accounts/{self._number}"
