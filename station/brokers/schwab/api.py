"""The Schwab Trader API in Station's terms (`BrokerApi` for `RestBroker`), over aiohttp."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Awaitable, Callable

from station.brokers.rest.client import AuthError, RejectedError, RestClient, TransientError
from station.brokers.schwab import parsing
from station.brokers.schwab.auth import SchwabAuth
from station.brokers.rest.balances import BalanceSnapshot
from station.brokers.rest.snapshots import OrderSnapshot, PositionSnapshot
from station.domain.orders import OrderRequest
from station.domain.timeutil import UTC, utc_now
from station.secrets import SecretStore

TRADER = "/trader/v1"


class SchwabApi:
    """Accounts, orders and positions of one Schwab account (by its account number)."""

    title = "Schwab"
    carries_client_ids = False

    def __init__(self, secrets: SecretStore, *, base_url: str, account: str | None = None) -> None:
        self.auth = SchwabAuth(secrets)
        self.http = RestClient(base_url, self.auth, title=self.title)
        self.account = account
        self._number: str | None = None
        self._hash: str | None = None

    def __repr__(self) -> str:
        return f"SchwabApi({self.http.base_url!r}, {self.description})"

    @property
    def description(self) -> str:
        return f"Schwab account {parsing.mask(self._number)}" if self._number else "Schwab"

    def check(self, request: OrderRequest) -> None:
        parsing.check(request)

    def check_bracket(self, entry: OrderRequest, exits: tuple[OrderRequest, ...]) -> None:
        parsing.check_bracket(entry, exits)

    async def connect(self) -> None:
        response = await self.http.request("GET", f"{TRADER}/accounts/accountNumbers")
        try:
            self._number, self._hash = parsing.pick_account(response.body, self.account)
        except ValueError as exc:
            raise AuthError(str(exc)) from None

    async def close(self) -> None:
        await self.http.close()

    async def orders(self, since: datetime) -> list[OrderSnapshot]:
        now = utc_now()
        params = {"fromEnteredTime": since.astimezone(UTC).strftime(parsing.TIME_FORMAT),
                  "toEnteredTime": (now + timedelta(minutes=5)).strftime(parsing.TIME_FORMAT),
                  "maxResults": "3000"}
        response = await self.http.request("GET", f"{self._account_path()}/orders", params=params)
        return parsing.parse_orders(response.body)

    async def order(self, broker_order_id: str) -> OrderSnapshot | None:
        try:
            response = await self.http.request("GET", f"{self._account_path()}/orders/{broker_order_id}")
        except RejectedError as exc:
            if exc.status == 404:
                return None
            raise
        return parsing.parse_order(response.body) if isinstance(response.body, dict) else None

    async def positions(self) -> list[PositionSnapshot]:
        response = await self.http.request("GET", self._account_path(), params={"fields": "positions"})
        return parsing.parse_positions(response.body)

    async def balances(self) -> BalanceSnapshot:
        response = await self.http.request("GET", self._account_path())
        return parsing.parse_balances(response.body, self._number or self.account or "")

    async def place(self, request: OrderRequest, position: Callable[[], Awaitable[Decimal]]) -> str:
        body = parsing.order_json(request, await position())
        response = await self.http.request("POST", f"{self._account_path()}/orders", json_body=body)
        order_id = parsing.order_id_from_location(response.headers.get("Location"))
        if order_id is None:  # accepted, but we cannot tell which order it is: find it when reconciling
            raise TransientError("Schwab accepted the order without naming it (no Location header)", sent=True)
        return order_id

    async def place_bracket(self, entry: OrderRequest, exits: tuple[OrderRequest, ...],
                            position: Callable[[], Awaitable[Decimal]]) -> dict[str, str]:
        """An entry with its exits as one TRIGGER order; the entry's id (its exits are named when it is listed)."""
        body = parsing.bracket_json(entry, exits, await position())
        response = await self.http.request("POST", f"{self._account_path()}/orders", json_body=body)
        order_id = parsing.order_id_from_location(response.headers.get("Location"))
        if order_id is None:
            raise TransientError("Schwab accepted the bracket without naming it (no Location header)", sent=True)
        return {entry.client_order_id: order_id}

    async def cancel(self, broker_order_id: str) -> None:
        await self.http.request("DELETE", f"{self._account_path()}/orders/{broker_order_id}")

    def _account_path(self) -> str:
        if self._hash is None:
            raise TransientError("Schwab account not resolved yet", sent=False)
        return f"{TRADER}/accounts/{self._hash}"
