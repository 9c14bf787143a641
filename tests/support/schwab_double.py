"""A loopback double of the Schwab Trader API (OAuth token endpoint, accounts, orders, positions).

It speaks the documented REST shapes so `station.brokers.schwab` runs unchanged against it:
Basic-auth token endpoint, Bearer tokens that expire, hashed account numbers, `201` with a
`Location` header for a new order, `orderActivityCollection` executions, `?fields=positions`.
Tests drive the market by hand: `fill()`, `reject_next`, `rate_limit_next`, `stop()`/`start()`.

Conditional orders as Schwab's order guide shows them: a TRIGGER order carries in `childOrderStrategies` one
SINGLE order or one OCO of exactly two SINGLE orders (anything else is refused, 400). The `Location` names the
TRIGGER only; listed (and by id), it carries its children nested, each with its own `orderId` (the OCO's too) and
`"editable": false`, `AWAITING_PARENT_ORDER` until the TRIGGER fills, then `WORKING`; the first fill of one of an
OCO's pair cancels the other. Cancelling the TRIGGER cancels everything in it; cancelling an OCO or either of its
pair cancels the OCO whole (the TRIGGER stays), as traders report it. `TRAILING_STOP` takes
`stopPriceLinkBasis`, `stopPriceLinkType` and a positive `stopPriceOffset`. `refuse_conditional` refuses the
next TRIGGER or OCO order with its text (an account not enabled for them).

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


FINAL = ("FILLED", "CANCELED", "REJECTED", "EXPIRED", "REPLACED")


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
        self.orders: dict[int, dict] = {}  # as listed: top-level orders, a TRIGGER's children nested
        self.nodes: dict[int, dict] = {}  # every order by its id, nested ones too
        self.parents: dict[int, int] = {}  # a nested order's id -> the id of the order it hangs from
        self.refuse_conditional: str | None = None
        self.bodies: list[dict] = []  # every order body received, as sent
        self.positions: dict[str, dict] = {}
        # the account's balances as Schwab shows them by default: at the start of the day, and now
        self.initial_balances = {"cashBalance": 50000.0, "buyingPower": 200000.0, "liquidationValue": 100000.0,
                                 "accountValue": 100000.0, "equity": 100000.0, "isInCall": False}
        self.current_balances = {"availableFunds": 100000.0, "buyingPower": 200000.0, "cashBalance": 50000.0,
                                 "equity": 100000.0, "liquidationValue": 100000.0, "longMarketValue": 50000.0}
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
        """Execute `qty` of an order (a nested one too) at `price`, as the exchange would."""
        order = self.nodes[order_id]
        assert order["status"] in ("WORKING", "PENDING_ACTIVATION"), f"order {order_id} is {order['status']}"
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
        if order["status"] == "FILLED" and order["orderStrategyType"] == "TRIGGER":  # its children go to work
            for child in self._nested(order):
                if child["status"] == "AWAITING_PARENT_ORDER":
                    child["status"] = "WORKING"
        parent = self.nodes.get(self.parents.get(order_id))
        if parent is not None and parent["orderStrategyType"] == "OCO":  # one cancels the other
            parent["status"] = "FILLED" if order["status"] == "FILLED" else parent["status"]
            for other in parent["childOrderStrategies"]:
                if other is not order and other["status"] not in FINAL:
                    self._cancel(other, "Canceled by OCO")

    def trigger_tree(self, order_id: int) -> list[dict]:
        """A TRIGGER order and everything nested in it, depth first (the OCO before its pair)."""
        order = self.nodes[order_id]
        return [order, *self._nested(order)]

    def _nested(self, order: dict) -> list[dict]:
        out = []
        for child in order.get("childOrderStrategies") or []:
            out += [child, *self._nested(child)]
        return out

    def _cancel(self, order: dict, why: str) -> None:
        order.update(status="CANCELED", cancelable=False, closeTime=_now_text(), statusDescription=why)

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
        account = {"type": "MARGIN", "accountNumber": ACCOUNT, "isDayTrader": False,
                   "initialBalances": dict(self.initial_balances), "currentBalances": dict(self.current_balances),
                   "projectedBalances": {"availableFunds": self.current_balances["availableFunds"],
                                         "buyingPower": self.current_balances["buyingPower"]}}
        if request.query.get("fields") == "positions":
            account["positions"] = [{
                "shortQuantity": float(-p["qty"]) if p["qty"] < 0 else 0.0,
                "longQuantity": float(p["qty"]) if p["qty"] > 0 else 0.0,
                "averagePrice": float(p["avg"]), "marketValue": 0.0,
                "instrument": {"assetType": p["asset"], "symbol": symbol, "cusip": "000000000"},
            } for symbol, p in self.positions.items()]
        return web.json_response({"securitiesAccount": account, "aggregatedBalance": {
            "currentLiquidationValue": self.current_balances["liquidationValue"],
            "liquidationValue": self.current_balances["liquidationValue"]}})

    async def list_orders(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request) or self._account_or_404(request)) is not None:
            return denied
        if "fromEnteredTime" not in request.query or "toEnteredTime" not in request.query:
            return web.json_response({"message": "fromEnteredTime and toEnteredTime are required"}, status=400)
        return web.json_response(sorted(self.orders.values(), key=lambda o: -o["orderId"]))

    async def get_order(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request) or self._account_or_404(request)) is not None:
            return denied
        order = self.nodes.get(int(request.match_info["order_id"]))
        if order is None:
            return web.json_response({"message": "Order not found"}, status=404)
        return web.json_response(order)

    async def place(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request) or self._account_or_404(request)) is not None:
            return denied
        body = await request.json()
        self.bodies.append(body)
        problem = self._invalid_tree(body)
        if problem is None and self.reject_next:
            problem, self.reject_next = self.reject_next, None
        if problem is None and self.refuse_conditional and body["orderStrategyType"] != "SINGLE":
            problem, self.refuse_conditional = self.refuse_conditional, None
        if problem is not None:
            return web.json_response({"message": problem, "errors": [problem]}, status=400)
        order = self._order(body, "WORKING", None)
        order_id = order["orderId"]
        self.orders[order_id] = order
        if self.fail_after_placing:  # the order is in, but the answer is lost
            self.fail_after_placing = False
            return web.json_response({"message": "Internal error"}, status=502)
        location = f"{self.url}/trader/v1/accounts/{ACCOUNT_HASH}/orders/{order_id}"
        return web.Response(status=201, headers={"Location": location})

    def _order(self, body: dict, status: str, parent_id: int | None) -> dict:
        """An order as Schwab keeps it, its children (and theirs) nested, each with its own id."""
        order_id = next(self._ids)
        self.nodes[order_id] = order = {**body, "orderId": order_id, "accountNumber": int(ACCOUNT), "status": status,
                                        "enteredTime": _now_text(), "cancelable": True, "tag": "API_SCHWAB",
                                        "editable": parent_id is None}
        if parent_id is not None:
            self.parents[order_id] = parent_id
        if "orderLegCollection" in body:
            leg = body["orderLegCollection"][0]
            order.update(quantity=leg["quantity"], filledQuantity=0, remainingQuantity=leg["quantity"],
                         orderActivityCollection=[],
                         orderLegCollection=[{**leg, "orderLegType": leg["instrument"]["assetType"], "legId": 1,
                                              "positionEffect": "CLOSING" if parent_id else "OPENING"}])
        waiting = "AWAITING_PARENT_ORDER" if body["orderStrategyType"] == "TRIGGER" else status
        order["childOrderStrategies"] = [self._order(child, waiting, order_id)
                                         for child in body.get("childOrderStrategies") or []]
        if not order["childOrderStrategies"]:
            del order["childOrderStrategies"]
        return order

    def _invalid_tree(self, body: dict) -> str | None:
        """What Schwab refuses in an order and what it carries."""
        kind = body.get("orderStrategyType")
        children = body.get("childOrderStrategies") or []
        if kind == "OCO":
            return "An OCO order takes exactly two orders" if len(children) != 2 else \
                next(filter(None, (self._invalid(c) for c in children)), None)
        if kind == "TRIGGER" and len(children) != 1:
            return "A TRIGGER order takes one child order strategy"
        problem = self._invalid(body)
        if problem is not None or kind != "TRIGGER":
            return problem
        leg = body["orderLegCollection"][0]
        after = self.positions.get(leg["instrument"]["symbol"], {"qty": 0})["qty"] + \
            (leg["quantity"] if leg["instruction"].startswith("BUY") else -leg["quantity"])
        [child] = children
        for single in child["childOrderStrategies"] if child.get("orderStrategyType") == "OCO" else [child]:
            if single.get("orderStrategyType") != "SINGLE":
                return "The orders a TRIGGER carries are SINGLE orders or one OCO of two"
            if single["orderLegCollection"][0]["instrument"]["symbol"] != leg["instrument"]["symbol"]:
                return "The orders a TRIGGER carries trade its symbol"
        if child.get("orderStrategyType") == "OCO" and len(child.get("childOrderStrategies") or []) != 2:
            return "An OCO order takes exactly two orders"
        for single in child["childOrderStrategies"] if child.get("orderStrategyType") == "OCO" else [child]:
            if (problem := self._invalid(single, after)) is not None:
                return problem
        return None

    def _invalid(self, body: dict, held: int | None = None) -> str | None:
        for key in ("orderType", "session", "duration", "orderStrategyType", "orderLegCollection"):
            if key not in body:
                return f"{key} is required"
        if body["orderType"] in ("LIMIT", "STOP_LIMIT") and "price" not in body:
            return "A limit order needs a price"
        if body["orderType"] in ("STOP", "STOP_LIMIT") and "stopPrice" not in body:
            return "A stop order needs a stopPrice"
        if body["orderType"] == "TRAILING_STOP" and not (
                body.get("stopPriceLinkBasis") in ("BID", "ASK", "LAST", "MARK")
                and body.get("stopPriceLinkType") in ("VALUE", "PERCENT", "TICK") and body.get("stopPriceOffset", 0) > 0):
            return "A trailing stop needs stopPriceLinkBasis, stopPriceLinkType and a positive stopPriceOffset"
        leg = body["orderLegCollection"][0]
        asset = leg["instrument"]["assetType"]
        allowed = {"EQUITY": {"BUY", "SELL", "SELL_SHORT", "BUY_TO_COVER"},
                   "OPTION": {"BUY_TO_OPEN", "BUY_TO_CLOSE", "SELL_TO_OPEN", "SELL_TO_CLOSE"}}.get(asset)
        if allowed is None or leg["instruction"] not in allowed:
            return f"Instruction {leg['instruction']} is not valid for {asset}"
        if held is None:
            held = self.positions.get(leg["instrument"]["symbol"], {"qty": 0})["qty"]
        if leg["instruction"] in ("SELL", "SELL_TO_CLOSE") and held < leg["quantity"]:
            return "You do not have enough shares/contracts to sell"
        return None

    async def cancel(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request) or self._account_or_404(request)) is not None:
            return denied
        order_id = int(request.match_info["order_id"])
        order = self.nodes.get(order_id)
        if order is None:
            return web.json_response({"message": "Order not found"}, status=404)
        if order["status"] in FINAL:
            return web.json_response({"message": f"Order is {order['status']} and cannot be canceled"}, status=400)
        parent = self.nodes.get(self.parents.get(order_id))
        if parent is not None and parent["orderStrategyType"] == "OCO":
            order = parent  # either of an OCO's pair: the OCO goes whole
        for each in (order, *self._nested(order)):
            if each["status"] not in FINAL:
                self._cancel(each, "Canceled by client")
        return web.Response(status=200)
