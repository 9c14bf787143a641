"""A loopback double of the Tastytrade Open API (OAuth and session login, accounts, orders, positions).

It speaks the documented shapes so `station.brokers.tastytrade` runs unchanged against it:
`{"data": …}` envelopes, dasherized keys, `external-identifier`, leg fills, `orders/live`,
`{"error": {"code", "message", "errors"}}` on refusals. Tests drive the market by hand.

Complex orders as the SDK's `NewComplexOrder` sends them (`POST …/complex-orders`): an OTOCO is a
`trigger-order` with exactly two `orders`, an OCO two `orders` and no trigger; anything else is refused (422).
Each component is an order of its own in `orders/live` (`complex-order-id`, `complex-order-tag`); an OTOCO's
pair waits `Contingent` until its trigger fills, then goes `Live`; the first fill of one cancels the other;
`DELETE …/complex-orders/{id}` cancels every component not final. `refuse_complex` refuses the next one.
"""

from __future__ import annotations

import itertools
import secrets as random
import time
from datetime import datetime, timezone

from aiohttp import web

from support.loopback_server import LoopbackServer, move_position

CLIENT_SECRET, USERNAME, PASSWORD = "double-client-secret-K8", "trader@example.com", "double-password-P3"
ACCOUNT = "5WT00001"


def _now_text() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(status: int, code: str, message: str, errors: list | None = None) -> web.Response:
    body = {"error": {"code": code, "message": message, **({"errors": errors} if errors else {})}}
    return web.json_response(body, status=status)


def _refused(problem: tuple[str, str]) -> web.Response:
    code, message = problem
    return _error(422, "preflight_check_failure", "One or more preflight checks failed",
                  [{"code": code, "message": message}])


class TastytradeDouble(LoopbackServer):
    """The Tastytrade API on 127.0.0.1, with a hand-driven market."""

    def __init__(self) -> None:
        super().__init__()
        self.refresh_tokens: set[str] = set()
        self.remember_tokens: set[str] = set()
        self.tokens: dict[str, float] = {}  # Authorization header value -> expiry (monotonic)
        self.logins: list[str] = []  # "oauth", "password", "remember"
        self.orders: dict[int, dict] = {}
        self.positions: dict[str, dict] = {}
        # the account's balances now, and its beginning-of-day snapshot
        self.balances = {"cash-balance": "50000.0", "net-liquidating-value": "100000.0",
                         "equity-buying-power": "200000.0", "derivative-buying-power": "100000.0",
                         "day-trading-buying-power": "0.0", "margin-equity": "100000.0"}
        self.start_of_day = {"net-liquidating-value": "100000.0", "cash-balance": "50000.0"}
        self.reject_next: tuple[str, str] | None = None
        self.refuse_complex: tuple[str, str] | None = None
        self.complex_orders: dict[int, dict] = {}
        self.complex_bodies: list[dict] = []  # every complex order body received, as sent
        self.fail_after_placing = False
        self._ids = itertools.count(54758826)
        self._complex_ids = itertools.count(2000010530)
        self._fills = itertools.count(1)
        acct = "/accounts/{account}"
        self.routes([
            ("POST", "/oauth/token", self.oauth_token),
            ("POST", "/sessions", self.session),
            ("GET", "/customers/me/accounts", self.accounts),
            ("GET", f"{acct}/orders/live", self.live_orders),
            ("POST", f"{acct}/orders", self.place),
            ("GET", f"{acct}/orders/{{order_id}}", self.get_order),
            ("DELETE", f"{acct}/orders/{{order_id}}", self.cancel),
            ("GET", f"{acct}/positions", self.positions_route),
            ("POST", f"{acct}/complex-orders", self.place_complex),
            ("GET", f"{acct}/complex-orders/live", self.live_complex_orders),
            ("DELETE", f"{acct}/complex-orders/{{complex_id}}", self.cancel_complex),
            ("GET", f"{acct}/balances/{{currency}}", self.balances_route),
            ("GET", f"{acct}/balance-snapshots", self.snapshots_route),
        ])

    # ---- test controls --------------------------------------------------------------------

    def issue_refresh_token(self) -> str:
        token = f"tt-rt-{random.token_urlsafe(16)}"
        self.refresh_tokens.add(token)
        return token

    def expire_tokens(self) -> None:
        self.tokens = {t: 0.0 for t in self.tokens}

    def by_external_id(self, coid: str) -> dict:
        return next(o for o in self.orders.values() if o.get("external-identifier") == coid)

    def fill(self, order_id: int, qty: int, price: str) -> None:
        order = self.orders[order_id]
        leg = order["legs"][0]
        assert qty <= leg["remaining-quantity"], "fill exceeds the order"
        leg["fills"].append({"ext-group-fill-id": "0", "ext-exec-id": "X", "fill-id": f"{order_id}_{next(self._fills)}",
                             "quantity": str(qty), "fill-price": price, "filled-at": _now_text(),
                             "destination-venue": "DOUBLE"})
        leg["remaining-quantity"] -= qty
        order["status"] = "Filled" if leg["remaining-quantity"] == 0 else "Live"
        order["updated-at"] = _now_text()
        sign = 1 if leg["action"].startswith("Buy") else -1
        move_position(self.positions, leg["symbol"], sign * qty, price, kind=leg["instrument-type"])
        group = self.complex_orders.get(order.get("complex-order-id"))
        if group is None:
            return
        if order["id"] == group["trigger-order-id"] and order["status"] == "Filled":  # the pair goes live
            for other in group["order-ids"]:
                if self.orders[other]["status"] == "Contingent":
                    self.orders[other].update({"status": "Live", "updated-at": _now_text()})
        elif order["id"] in group["order-ids"]:  # one cancels the other
            for other in group["order-ids"]:
                if other != order["id"] and self.orders[other]["status"] in ("Live", "Contingent", "Received"):
                    self._cancelled(self.orders[other])

    def components(self, complex_id: int) -> list[dict]:
        """A complex order's orders: its trigger first, then its pair."""
        group = self.complex_orders[complex_id]
        return [self.orders[i] for i in (group["trigger-order-id"], *group["order-ids"]) if i is not None]

    def _cancelled(self, order: dict) -> None:
        order.update(status="Cancelled", cancellable=False, editable=False,
                     **{"cancelled-at": _now_text(), "terminal-at": _now_text()})

    # ---- login ----------------------------------------------------------------------------

    def _issue(self, value: str, lifetime_s: float) -> str:
        self.tokens[value] = time.monotonic() + lifetime_s
        return value

    async def oauth_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("client_secret") != CLIENT_SECRET or body.get("refresh_token") not in self.refresh_tokens:
            return web.json_response({"error": "invalid_grant", "error_description": "Grant is invalid"}, status=401)
        self.logins.append("oauth")
        token = random.token_urlsafe(24)
        self._issue(f"Bearer {token}", 900)
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": 900})

    async def session(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("login") != USERNAME:
            return _error(401, "invalid_credentials", "Invalid login, please check your username and password")
        if "remember-token" in body:
            if body["remember-token"] not in self.remember_tokens:
                return _error(401, "invalid_credentials", "Remember token expired")
            self.remember_tokens.discard(body["remember-token"])  # one use each
            self.logins.append("remember")
        elif body.get("password") == PASSWORD:
            self.logins.append("password")
        else:
            return _error(401, "invalid_credentials", "Invalid login, please check your username and password")
        remember = random.token_urlsafe(20)
        self.remember_tokens.add(remember)
        session_token = self._issue(random.token_urlsafe(30), 24 * 3600)
        return web.json_response({"data": {"user": {"email": USERNAME, "username": "trader", "external-id": "U1"},
                                           "session-token": session_token, "remember-token": remember,
                                           "session-expiration": "2099-01-01T00:00:00.000Z"}, "context": "/sessions"})

    def _denied(self, request: web.Request) -> web.Response | None:
        if self.tokens.get(request.headers.get("Authorization", ""), 0.0) < time.monotonic():
            return _error(401, "token_invalid", "This session is invalid or expired")
        if "account" in request.match_info and request.match_info["account"] != ACCOUNT:
            return _error(403, "not_permitted", "User not permitted access")
        return None

    # ---- accounts, orders, positions ------------------------------------------------------

    async def accounts(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return web.json_response({"data": {"items": [
            {"account": {"account-number": ACCOUNT, "nickname": "Individual", "is-closed": False,
                         "margin-or-cash": "Margin"}, "authority-level": "owner"},
            {"account": {"account-number": "5WT99999", "is-closed": True}, "authority-level": "owner"}]}})

    async def balances_route(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return web.json_response({"data": {"account-number": ACCOUNT, "currency": request.match_info["currency"],
                                           **self.balances, "updated-at": _now_text()},
                                  "context": f"/accounts/{ACCOUNT}/balances"})

    async def snapshots_route(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        if request.query.get("time-of-day") not in ("BOD", "EOD"):
            return _error(400, "invalid_parameter", "time-of-day must be BOD or EOD")
        day = request.query.get("snapshot-date") or datetime.now(timezone.utc).date().isoformat()
        item = {"account-number": ACCOUNT, "currency": "USD", "snapshot-date": day,
                "time-of-day": request.query["time-of-day"], **self.start_of_day}
        return web.json_response({"data": {"items": [item]}, "context": f"/accounts/{ACCOUNT}/balance-snapshots",
                                  "pagination": {"per-page": 250, "page-offset": 0, "item-offset": 0,
                                                 "total-items": 1, "total-pages": 1, "current-item-count": 1}})

    async def live_orders(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return web.json_response({"data": {"items": sorted(self.orders.values(), key=lambda o: -o["id"])}})

    async def get_order(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        order = self.orders.get(int(request.match_info["order_id"]))
        if order is None:
            return _error(404, "record_not_found", "Order not found")
        return web.json_response({"data": order})

    async def place(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        problem = self._invalid(body) or self.reject_next
        self.reject_next = None
        if problem is not None:
            return _refused(problem)
        order = self._new_order(body, "Live")
        if self.fail_after_placing:
            self.fail_after_placing = False
            return _error(500, "internal_error", "Something went wrong")
        return web.json_response({"data": {"order": order, "warnings": [],
                                           "buying-power-effect": {"change-in-buying-power": "0"}},
                                  "context": f"/accounts/{ACCOUNT}/orders"}, status=201)

    def _new_order(self, body: dict, status: str, **fields) -> dict:
        order_id = next(self._ids)
        leg = body["legs"][0]
        order = {
            "id": order_id, "account-number": ACCOUNT, "time-in-force": body["time-in-force"],
            "order-type": body["order-type"], "size": leg["quantity"], "underlying-symbol": leg["symbol"].split()[0],
            "underlying-instrument-type": "Equity", "status": status, "cancellable": True, "editable": True,
            "edited": False, "received-at": _now_text(), "updated-at": _now_text(),
            "legs": [{**leg, "remaining-quantity": leg["quantity"], "fills": []}],
            **{k: body[k] for k in ("price", "price-effect", "stop-trigger", "external-identifier") if k in body},
            **fields,
        }
        self.orders[order_id] = order
        return order

    async def place_complex(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        self.complex_bodies.append(body)
        problem = self._invalid_complex(body) or self.refuse_complex
        self.refuse_complex = None
        if problem is not None:
            return _refused(problem)
        complex_id, kind = next(self._complex_ids), body["type"]
        tagged = {"complex-order-id": complex_id}
        trigger = body.get("trigger-order")
        placed_trigger = self._new_order(trigger, "Live", **tagged, **{"complex-order-tag": f"{kind}::trigger-order"}) \
            if trigger else None
        pair = [self._new_order(o, "Contingent" if trigger else "Live", **tagged, **{"complex-order-tag": f"{kind}::order"})
                for o in body["orders"]]
        self.complex_orders[complex_id] = {"id": complex_id, "account-number": ACCOUNT, "type": kind,
                                           "trigger-order-id": placed_trigger and placed_trigger["id"],
                                           "order-ids": [o["id"] for o in pair]}
        if self.fail_after_placing:
            self.fail_after_placing = False
            return _error(500, "internal_error", "Something went wrong")
        return web.json_response({"data": {"complex-order": self._complex_json(complex_id), "warnings": [],
                                            "buying-power-effect": {"change-in-buying-power": "0"}},
                                  "context": f"/accounts/{ACCOUNT}/complex-orders"}, status=201)

    def _complex_json(self, complex_id: int) -> dict:
        group = self.complex_orders[complex_id]
        trigger = group["trigger-order-id"]
        return {"id": complex_id, "account-number": ACCOUNT, "type": group["type"],
                **({"trigger-order": self.orders[trigger]} if trigger is not None else {}),
                "orders": [self.orders[i] for i in group["order-ids"]]}

    def _invalid_complex(self, body: dict) -> tuple[str, str] | None:
        kind, trigger, orders = body.get("type"), body.get("trigger-order"), body.get("orders") or []
        if kind not in ("OTOCO", "OCO"):
            return "invalid_complex_order_type", f"{kind} is not a valid complex order type"
        if len(orders) != 2 or (kind == "OTOCO") != (trigger is not None):
            return "invalid_complex_order", f"an {kind} takes {'a trigger-order and ' if kind == 'OTOCO' else ''}" \
                                            "exactly two orders"
        problem = self._invalid(trigger) if trigger else None
        if problem is not None:
            return problem
        held = self.positions.get(trigger["legs"][0]["symbol"], {"qty": 0})["qty"] if trigger else None
        if trigger is not None:  # the pair closes what the trigger leaves
            leg = trigger["legs"][0]
            held += leg["quantity"] if leg["action"].startswith("Buy") else -leg["quantity"]
        for order in orders:
            if trigger is not None and order["legs"][0]["symbol"] != trigger["legs"][0]["symbol"]:
                return "invalid_complex_order", "the orders of an OTOCO trade its trigger's symbol"
            if (problem := self._invalid(order, held)) is not None:
                return problem
        return None

    async def live_complex_orders(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return web.json_response({"data": {"items": [self._complex_json(i) for i in sorted(self.complex_orders)]}})

    async def cancel_complex(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        complex_id = int(request.match_info["complex_id"])
        if complex_id not in self.complex_orders:
            return _error(404, "record_not_found", "Complex order not found")
        for order in self.components(complex_id):
            if order["status"] in ("Live", "Contingent", "Received", "Routed"):
                self._cancelled(order)
        return web.json_response({"data": self._complex_json(complex_id)})

    def _invalid(self, body: dict, held: int | None = None) -> tuple[str, str] | None:
        for key in ("time-in-force", "order-type", "legs"):
            if key not in body:
                return "validation_error", f"{key} is missing"
        if body["order-type"] in ("Limit", "Stop Limit") and ("price" not in body or "price-effect" not in body):
            return "validation_error", "price and price-effect are required for limit orders"
        if body["order-type"] in ("Stop", "Stop Limit") and "stop-trigger" not in body:
            return "validation_error", "stop-trigger is required for stop orders"
        leg = body["legs"][0]
        actions = {"Future": {"Buy", "Sell"}}.get(leg["instrument-type"],
                                                  {"Buy to Open", "Buy to Close", "Sell to Open", "Sell to Close"})
        if leg["action"] not in actions:
            return "invalid_action", f"{leg['action']} is not valid for {leg['instrument-type']}"
        if held is None:
            held = self.positions.get(leg["symbol"], {"qty": 0})["qty"]
        if leg["action"] == "Sell to Close" and held < leg["quantity"]:
            return "position_not_found", "Closing order quantity exceeds the open position"
        if leg["action"] == "Buy to Close" and -held < leg["quantity"]:
            return "position_not_found", "Closing order quantity exceeds the open position"
        return None

    async def cancel(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        order = self.orders.get(int(request.match_info["order_id"]))
        if order is None:
            return _error(404, "record_not_found", "Order not found")
        if order["status"] not in ("Live", "Received", "Routed", "Contingent"):
            return _error(422, "order_not_cancellable", f"Order is {order['status']} and cannot be cancelled")
        self._cancelled(order)
        return web.json_response({"data": order})

    async def positions_route(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return web.json_response({"data": {"items": [{
            "account-number": ACCOUNT, "symbol": symbol, "instrument-type": p["kind"],
            "underlying-symbol": symbol.split()[0], "quantity": str(abs(p["qty"])),
            "quantity-direction": "Long" if p["qty"] > 0 else "Short", "average-open-price": str(p["avg"]),
            "close-price": "0", "multiplier": 1, "cost-effect": "Debit",
        } for symbol, p in self.positions.items()]}})
