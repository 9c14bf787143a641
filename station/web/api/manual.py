"""REST: manual actions (buy, sell, close, reverse, flatten all, 0DTE call/put) and the kill switch.

Each action is the command the Manual Trading panel publishes. The answer waits
(a few seconds at most) until the oms (or, for 0DTE, the engine) says which orders the
action made, or why none: an action not carried out (no price, no 0DTE strategy, the
kill switch on, nothing to close) answers 409 with the reason, never a success. A pair
ticker (`NMFC-0.72*NASDAQ:ROIC`) acts on both legs. A `click_id` in the body makes a
retried request idempotent.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

from station.domain.commands import (
    BuyZeroDte,
    ClosePosition,
    FlattenAll,
    ManualOrder,
    ReversePosition,
    SetKillSwitch,
)
from station.domain.enums import OptionRight, Side
from station.domain.events import KillSwitchChanged, ManualActionCompleted
from station.domain.spread_symbols import parse_spread
from station.web.api.auth import ApiError, json_body

if TYPE_CHECKING:
    from station.web.api.routes import RestApi

WAIT_S = 5.0
SETTLE_S = 1.0  # how long an answer waits for orders still `new` to be refused or taken
CLICK_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
ACTIONS = {"buy", "sell", "close", "reverse", "flatten", "flattenall", "0dte", "0dtecall", "0dteput"}


def install(api: "RestApi", router: web.UrlDispatcher) -> None:
    handlers = ManualHandlers(api)
    router.add_post("/api/manual", handlers.action)
    router.add_post("/api/manual/{action}", handlers.action)
    for path in ("/api/kill-switch", "/api/kill_switch", "/api/killswitch"):
        router.add_get(path, handlers.kill_switch)
        router.add_post(path, handlers.set_kill_switch)


def _normal(action: str) -> str:
    return re.sub(r"[\s_-]", "", action.lower())


class ManualHandlers:
    """Validate, publish the command, wait for the oms's answer."""

    def __init__(self, api: "RestApi") -> None:
        self.api = api
        self.bus = api.bus

    async def action(self, request: web.Request) -> web.Response:
        body = await json_body(request) if request.can_read_body else {}
        action = _normal(request.match_info.get("action") or str(body.get("action", "")))
        if action not in ACTIONS:
            raise ApiError(400 if "action" not in request.match_info else 404,
                           "unknown action (one of buy, sell, close, reverse, flatten, 0dte_call, 0dte_put)",
                           {"action": f"{action or 'missing'} is not an action"})
        click_id = self._click_id(body)
        if action in ("flatten", "flattenall"):
            return self._flatten(body)
        if action.startswith("0dte"):
            return await self._zero_dte(action, body, click_id)
        strategy, ticker = self._strategy_ticker(body)
        if action in ("buy", "sell"):
            command = ManualOrder(click_id, strategy, ticker, Side(action), _qty(body, required=False))
        elif action == "close":
            command = ClosePosition(click_id, strategy, ticker)
        else:
            command = ReversePosition(click_id, strategy, ticker)
        return await self._run(command, click_id)

    def _click_id(self, body: dict[str, Any]) -> str:
        given = body.get("click_id")
        if given is None:
            return f"api-{uuid.uuid4().hex[:16]}"
        if not isinstance(given, str) or not CLICK_ID.match(given):
            raise ApiError(400, "invalid click_id", {"click_id": "1-64 letters, digits or _.:-"})
        return given

    def _strategy_ticker(self, body: dict[str, Any]) -> tuple[str, str]:
        errors = {k: "is required (a non-empty string)" for k in ("strategy", "ticker")
                  if not isinstance(body.get(k), str) or not body[k].strip()}
        if errors:
            raise ApiError(400, "missing or invalid fields", errors)
        strategy = self.api.config.load().strategy(body["strategy"].strip())
        if strategy is None:
            raise ApiError(404, f"no strategy named {body['strategy']!r}")
        ticker = body["ticker"].strip()
        spread = parse_spread(ticker)
        entry = strategy.ticker(ticker) or (strategy.ticker(spread.ticker1) if spread else None)
        if entry is None:
            raise ApiError(400, f"strategy {strategy.name} does not list ticker {body['ticker']}",
                           {"ticker": "not listed by the strategy"})
        return strategy.name, ticker if spread else entry.ticker  # a pair as given: the oms acts on both legs

    def _flatten(self, body: dict[str, Any]) -> web.Response:
        book = self.api.book
        if not book.open_orders() and not book.marked_positions(include_flat=False):
            raise ApiError(409, "nothing to flatten: no open position and no working order")
        self.bus.publish(FlattenAll(reason=str(body.get("reason") or "REST API")))
        return web.json_response({"status": "success", "message": "flattening every position"})

    async def _zero_dte(self, action: str, body: dict[str, Any], click_id: str) -> web.Response:
        right_text = {"0dtecall": "call", "0dteput": "put"}.get(action) or str(body.get("right", "")).lower()
        if right_text not in ("call", "put"):
            raise ApiError(400, "a 0DTE order needs right call or put", {"right": "must be call or put"})
        name = body.get("strategy")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ApiError(400, "invalid strategy", {"strategy": "must be a 0DTE strategy's name"})
        strategy = self.api.config.load().zero_dte_strategy(name.strip() if name else None)
        if strategy is None:
            raise ApiError(409 if not name else 404,
                           f"no 0DTE strategy named {name!r}" if name else "no enabled 0DTE strategy is configured")
        if self.api.book.kill_switch_reason is not None:
            raise ApiError(409, f"the kill switch is engaged ({self.api.book.kill_switch_reason}): nothing is sent")
        if not self.bus.has_subscribers(BuyZeroDte):
            raise ApiError(503, "0DTE orders need the strategy engine, which is not running")
        await self._answer(BuyZeroDte(click_id, strategy.name, OptionRight(right_text)), click_id)
        return web.json_response({"status": "success", "click_id": click_id, "strategy": strategy.name,
                                  "message": f"0DTE {right_text} sent to {strategy.name} (its destinations' sizes apply)"})

    async def _answer(self, command, click_id: str) -> ManualActionCompleted:
        """Publish `command` and wait for its ManualActionCompleted; 409 with the reason when it did nothing."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future = loop.create_future()

        def on_done(event: ManualActionCompleted) -> None:
            if event.click_id == click_id and not answer.done():
                answer.set_result(event)

        unsubscribe = self.bus.subscribe(ManualActionCompleted, on_done)
        try:
            self.bus.publish(command)
            try:
                event = await asyncio.wait_for(answer, WAIT_S)
            except asyncio.TimeoutError:
                raise ApiError(504, "the order manager did not answer in time") from None
        finally:
            unsubscribe()
        if event.error:
            raise ApiError(409, event.error)
        return event

    async def _run(self, command, click_id: str) -> web.Response:
        await self._answer(command, click_id)
        from station.web.api.routes import order_json

        # a destination may still refuse at once (the paper broker: no price at all): wait a moment for that
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_S
        while True:
            rows = self.api.records.orders_of_cause(f"m{click_id}")
            if rows and all(r["status"] == "rejected" for r in rows):
                raise ApiError(409, "; ".join(dict.fromkeys(r["reason"] or "rejected" for r in rows)))
            if not any(r["status"] == "new" for r in rows) or loop.time() > deadline:
                break
            await asyncio.sleep(0.05)
        return web.json_response({"status": "success", "click_id": click_id, "orders": [order_json(r) for r in rows]})

    async def kill_switch(self, request: web.Request) -> web.Response:
        book = self.api.book
        since = book.kill_switch_since
        return web.json_response({"engaged": book.kill_switch_reason is not None, "reason": book.kill_switch_reason,
                                  "since": since.isoformat() if since else None})

    async def set_kill_switch(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        engaged = body.get("engaged")
        if not isinstance(engaged, bool):
            raise ApiError(400, "say whether to engage the kill switch", {"engaged": "must be true or false"})
        reason = body.get("reason", "REST API")
        if not isinstance(reason, str):
            raise ApiError(400, "invalid reason", {"reason": "must be a string"})
        loop = asyncio.get_running_loop()
        changed: asyncio.Future = loop.create_future()
        unsubscribe = self.bus.subscribe(
            KillSwitchChanged, lambda e: changed.done() or e.engaged != engaged or changed.set_result(e))
        try:
            self.bus.publish(SetKillSwitch(engaged, reason or "REST API"))
            try:
                await asyncio.wait_for(changed, WAIT_S)
            except asyncio.TimeoutError:
                raise ApiError(504, "the order manager did not answer in time") from None
        finally:
            unsubscribe()
        return await self.kill_switch(request)


def _qty(body: dict[str, Any], *, required: bool) -> Decimal | None:
    value = body.get("qty", body.get("quantity"))
    if value is None:
        if required:
            raise ApiError(400, "a quantity is required", {"qty": "is required"})
        return None
    try:
        qty = Decimal(str(value)) if not isinstance(value, bool) else None
    except InvalidOperation:
        qty = None
    if qty is None or not qty.is_finite() or qty <= 0 or qty > Decimal("1e9"):
        raise ApiError(400, "invalid quantity", {"qty": "must be a number greater than 0"})
    return qty
