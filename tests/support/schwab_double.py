"""A loopback double of the Schwab Trader API (OAuth token endpoint, accounts, orders, positions).

It speaks the documented REST shapes so `station.brokers.schwab` runs unchanged against it:
Basic-auth token endpoint, Bearer tokens that expire, hashed account numbers, `201` with a
`Location` header for a new order, `orderActivityCollection` executions, `?fields=positions`.
Tests drive the market by hand: `fill()`, `reject_next`, `rate_limit_next`, `stop()`/`start()`.
Its login page (`/v1/oauth/authorize`) stands for a trader who logs in and approves: it
redirects the browser at once to the app's callback URL with `?code=…&session=…`, as Schwab does.
"""

from __future__ import annotations

import base64
import itertools
import secrets as random
import time
from datetime import datetime, timezone
from urllib.parse import quote, urlparse

from aiohttp import web

from support.loopback_server import LoopbackServer, move_position

APP_KEY, APP_SECRET = "double-app-key-7Q2", "double-app-secret-9Z4"
ACCOUNT, ACCOUNT_HASH = "12345678", "E5B3F0A1C2D4HASH"
CALLBACK = "https://127.0.0.1:8182"


def _now_text() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


class SchwabDouble(LoopbackServer):
    """The Schwab Trader API on 127.0.0.1, with a hand-driven market."""

    def __init__(self, *, access_lifetime_s: float = 1800, callback: str = CALLBACK) -> None:
        super().__init__()
        self.access_lifetime_s = access_lifetime_s
        self.callback = callback  # the developer app's registered callback URL
        self.codes: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.access_tokens: dict[str, float] = {}
        self.token_requests = 0
        self.orders: dict[int, dict] = {}
        self.positions: dict[str, dict] = {}
        self.reject_next: str | None = None
        self.rate_limit_next = 0
        self.fail_after_placing = False
        self._ids = itertools.count(1001)
        self._activities = itertools.count(90001)
        base = "/trader/v1/accounts/{hash}"
        self.routes([
            ("GET", "/v1/oauth/authorize", self.login_page),
            ("POST", "/v1/oauth/token", self.token),
            ("GET", "/trader/v1/accounts/accountNumbers", self.account_numbers),
            ("GET", base, self.account),
            ("GET", f"{base}/orders", self.list_orders),
            ("POST", f"{base}/orders", self.place),
            ("GET", f"{base}/orders/{{order_id}}", self.get_order),
            ("DELETE", f"{base}/orders/{{order_id}}", self.cancel),
        ])

    # ---- test controls --------------------------------------------------------------------

    def issue_code(self) -> str:
        """A one-time authorization code, as Schwab appends to the callback URL (ends in '@')."""
        code = f"C0.{random.token_urlsafe(12)}@"
        self.codes.add(code)
        return code

    def issue_refresh_token(self) -> str:
        token = f"rt-{random.token_urlsafe(16)}"
        self.refresh_tokens.add(token)
        return token

    def expire_access_tokens(self) -> None:
        self.access_tokens = {t: 0.0 for t in self.access_tokens}

    def fill(self, order_id: int, qty: int, price: str) -> None:
        """Execute `qty` of an order at `price`, as the exchange would."""
        order = self.orders[order_id]
        leg = order["orderLegCollection"][0]
        remaining = order["remainingQuantity"] - qty
        assert remaining >= 0, "fill exceeds the order"
        order["orderActivityCollection"].append({
            "activityType": "EXECUTION", "activityId": next(self._activities), "executionType": "FILL",
            "quantity": qty, "orderRemainingQuantity": remaining,
            "executionLegs": [{"legId": 1, "price": float(price), "quantity": qty, "mismarkedQuantity": 0,
                               "instrumentId": 1, "time": _now_text()}]})
        order["filledQuantity"] += qty
        order["remainingQuantity"] = remaining
        order["status"] = "FILLED" if remaining == 0 else "WORKING"
        if remaining == 0:
            order["closeTime"] = _now_text()
        sign = 1 if leg["instruction"].startswith("BUY") else -1
        move_position(self.positions, leg["instrument"]["symbol"], sign * qty, price, asset=leg["instrument"]["assetType"])

    # ---- OAuth ----------------------------------------------------------------------------

    async def login_page(self, request: web.Request) -> web.Response:
        """The trader logs in and approves: 302 to `{callback}/?code=…&session=…` (Schwab's own redirect)."""
        if request.query.get("client_id") != APP_KEY or request.query.get("redirect_uri") != self.callback:
            return web.Response(status=400, text="Invalid client_id or redirect_uri", content_type="text/html")
        separator = "" if urlparse(self.callback).path not in ("", "/") else ("" if self.callback.endswith("/") else "/")
        location = f"{self.callback}{separator}?code={quote(self.issue_code(), safe='')}&session={random.token_hex(8)}"
        raise web.HTTPFound(location)

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        expected = "Basic " + base64.b64encode(f"{APP_KEY}:{APP_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": "invalid_client", "error_description": "Unauthorized"}, status=401)
        form = await request.post()
        grant = form.get("grant_type")
        if grant == "authorization_code":
            if form.get("code") not in self.codes or form.get("redirect_uri") != self.callback:
                return web.json_response({"error": "invalid_request", "error_description": "Bad authorization code"}, status=400)
            self.codes.discard(form["code"])
            refresh = self.issue_refresh_token()
        elif grant == "refresh_token":
            refresh = form.get("refresh_token")
            if refresh not in self.refresh_tokens:
                return web.json_response({"error": "refresh_token_authentication_error",
                                          "error_description": "Failed refresh token authentication"}, status=400)
        else:
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        access = f"I0.{random.token_urlsafe(24)}@"
        self.access_tokens[access] = time.monotonic() + self.access_lifetime_s
        return web.json_response({"expires_in": int(self.access_lifetime_s), "token_type": "Bearer", "scope": "api",
                                  "refresh_token": refresh, "access_token": access, "id_token": "eyJ0eXAi"})

    def _authorised(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
        if token is None or self.access_tokens.get(token, 0.0) < time.monotonic():
            return web.json_response({"message": "Client not authorized",
                                      "errors": [{"status": 401, "title": "Unauthorized"}]}, status=401)
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return web.json_response({"message": "Too many requests"}, status=429, headers={"Retry-After": "0.1"})
        return None

    def _account_or_404(self, request: web.Request) -> web.Response | None:
        if request.match_info["hash"] != ACCOUNT_HASH:
            return web.json_response({"message": "Invalid account number"}, status=404)
        return None

    # ---- accounts and orders --------------------------------------------------------------

    async def account_numbers(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request)) is not None:
            return denied
        return web.json_response([{"accountNumber": ACCOUNT, "hashValue": ACCOUNT_HASH}])

    async def account(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request) or self._account_or_404(request)) is not None:
            return denied
        account = {"type": "MARGIN", "accountNumber": ACCOUNT, "isDayTrader": False}
        if request.query.get("fields") == "positions":
            account["positions"] = [{
                "shortQuantity": float(-p["qty"]) if p["qty"] < 0 else 0.0,
                "longQuantity": float(p["qty"]) if p["qty"] > 0 else 0.0,
                "averagePrice": float(p["avg"]), "marketValue": 0.0,
                "instrument": {"assetType": p["asset"], "symbol": symbol, "cusip": "000000000"},
            } for symbol, p in self.positions.items()]
        return web.json_response({"securitiesAccount": account})

    async def list_orders(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request) or self._account_or_404(request)) is not None:
            return denied
        if "fromEnteredTime" not in request.query or "toEnteredTime" not in request.query:
            return web.json_response({"message": "fromEnteredTime and toEnteredTime are required"}, status=400)
        return web.json_response(sorted(self.orders.values(), key=lambda o: -o["orderId"]))

    async def get_order(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request) or self._account_or_404(request)) is not None:
            return denied
        order = self.orders.get(int(request.match_info["order_id"]))
        if order is None:
            return web.json_response({"message": "Order not found"}, status=404)
        return web.json_response(order)

    async def place(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request) or self._account_or_404(request)) is not None:
            return denied
        body = await request.json()
        problem = self._invalid(body)
        if problem is None and self.reject_next:
            problem, self.reject_next = self.reject_next, None
        if problem is not None:
            return web.json_response({"message": problem, "errors": [problem]}, status=400)
        order_id = next(self._ids)
        leg = body["orderLegCollection"][0]
        quantity = leg["quantity"]
        self.orders[order_id] = {
            **body, "orderId": order_id, "accountNumber": int(ACCOUNT), "status": "WORKING",
            "quantity": quantity, "filledQuantity": 0, "remainingQuantity": quantity,
            "enteredTime": _now_text(), "cancelable": True, "editable": True, "tag": "API_SCHWAB",
            "orderLegCollection": [{**leg, "orderLegType": leg["instrument"]["assetType"], "legId": 1,
                                    "positionEffect": "OPENING"}],
            "orderActivityCollection": [],
        }
        if self.fail_after_placing:  # the order is in, but the answer is lost
            self.fail_after_placing = False
            return web.json_response({"message": "Internal error"}, status=502)
        location = f"{self.url}/trader/v1/accounts/{ACCOUNT_HASH}/orders/{order_id}"
        return web.Response(status=201, headers={"Location": location})

    def _invalid(self, body: dict) -> str | None:
        for key in ("orderType", "session", "duration", "orderStrategyType", "orderLegCollection"):
            if key not in body:
                return f"{key} is required"
        if body["orderType"] in ("LIMIT", "STOP_LIMIT") and "price" not in body:
            return "A limit order needs a price"
        if body["orderType"] in ("STOP", "STOP_LIMIT") and "stopPrice" not in body:
            return "A stop order needs a stopPrice"
        leg = body["orderLegCollection"][0]
        asset = leg["instrument"]["assetType"]
        allowed = {"EQUITY": {"BUY", "SELL", "SELL_SHORT", "BUY_TO_COVER"},
                   "OPTION": {"BUY_TO_OPEN", "BUY_TO_CLOSE", "SELL_TO_OPEN", "SELL_TO_CLOSE"}}.get(asset)
        if allowed is None or leg["instruction"] not in allowed:
            return f"Instruction {leg['instruction']} is not valid for {asset}"
        held = self.positions.get(leg["instrument"]["symbol"], {"qty": 0})["qty"]
        if leg["instruction"] in ("SELL", "SELL_TO_CLOSE") and held < leg["quantity"]:
            return "You do not have enough shares/contracts to sell"
        return None

    async def cancel(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request) or self._account_or_404(request)) is not None:
            return denied
        order = self.orders.get(int(request.match_info["order_id"]))
        if order is None:
            return web.json_response({"message": "Order not found"}, status=404)
        if order["status"] in ("FILLED", "CANCELED", "REJECTED", "EXPIRED"):
            return web.json_response({"message": f"Order is {order['status']} and cannot be canceled"}, status=400)
        order.update(status="CANCELED", cancelable=False, closeTime=_now_text(), statusDescription="Canceled by client")
        return web.Response(status=200)
