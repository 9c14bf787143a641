"""REST: orders by hand, with the alert's order instructions (CONTRACT.md "REST API and scripts").

- `POST /api/orders` places an order (and its bracket) like an alert: 201 `{"orders": [ids]}` (the entry
  and its exits); bad fields 400 naming them; a `click_id` retried makes nothing new (the same ids again);
  nothing carried out (every order refused: no price, kill switch, …) 409 with the reason;
- `DELETE /api/orders/{id}` cancels a working or held order: 200 with the order as it now stands; an
  unknown id 404; one already filled, cancelled or rejected, or that cannot be cancelled, 409;
- `PATCH /api/orders/{id}` `{"qty"?, "limit_price"?, "stop_price"?}` changes it (in place, or cancelled and
  replaced where the destination cannot): 200 with the order as it now stands (a replacement's `replaces`
  names the original);
- `POST /api/positions/close` `{"strategy", "ticker", "destination"?}` closes that position and cancels its
  protective orders: 200 with the orders made; nothing to close 409;
- `POST /api/positions/protect` `{"strategy", "ticker", "destination"?, "stop_loss"?, "take_profit"?,
  "trailing_stop"?}` adds exits to a position held (the Positions dock's Add stop/target): levels as an alert's
  (a price, or an offset from the average price; a trailing stop's offset trails from the market), one OCO group
  for what is not protected yet, working at once: 200 with the orders made; no position, a level on the wrong
  side of the market, nothing left to protect 409; the destination may be left out when the position is held
  at one.
Each publishes the oms's command and waits (a few seconds at most) for its answer.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

from aiohttp import web

from station.domain.commands import CancelOrder, ChangeOrder, ClosePosition, ManualOrder, ProtectPosition
from station.domain.enums import OrderStatus, Side
from station.domain.events import ManualActionCompleted, OrderActionRefused, OrderChanged, OrderUpdated
from station.domain.instructions import positive_number, read_exit_level, read_instructions, read_offset
from station.web.api.auth import ApiError, json_body
from station.web.api.manual import CLICK_ID, WAIT_S

if TYPE_CHECKING:
    from station.web.api.routes import RestApi

OUTCOME_S = 2.0  # how long a placed order may take to say it was refused (a destination down: it waits)
FIELDS = {"strategy", "ticker", "action", "qty", "order_type", "limit_price", "stop_price", "tif", "stop_loss",
          "take_profit", "trailing_stop", "destination", "click_id"}
PROTECT_FIELDS = {"strategy", "ticker", "destination", "stop_loss", "take_profit", "trailing_stop", "click_id"}


def install(api: "RestApi", router: web.UrlDispatcher) -> None:
    handlers = OrderHandlers(api)
    router.add_post("/api/orders", handlers.place)
    router.add_delete("/api/orders/{id}", handlers.cancel)
    router.add_patch("/api/orders/{id}", handlers.change)
    router.add_post("/api/positions/close", handlers.close)
    router.add_post("/api/positions/protect", handlers.protect)


class OrderHandlers:
    """Validate, publish the oms's command, wait for its answer."""

    def __init__(self, api: "RestApi") -> None:
        self.api = api
        self.bus = api.bus

    # ---- POST /api/orders -------------------------------------------------------------------------

    async def place(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        errors: dict[str, str] = {}
        for key in body:
            if key not in FIELDS:
                errors[str(key)[:40]] = "is not a field of an order"
        side = None
        action = body.get("action")
        if not isinstance(action, str) or action.strip().lower() not in ("buy", "sell"):
            errors["action"] = "is required: buy or sell"
        else:
            side = Side(action.strip().lower())
        qty = None
        if body.get("qty") is not None:
            try:
                qty = positive_number(body["qty"])
            except ValueError as exc:
                errors["qty"] = str(exc)
        strategy, ticker = _text(body, "strategy", errors), _text(body, "ticker", errors)
        destination = _text(body, "destination", errors, required=False)
        instructions = read_instructions(body, errors, action=side, price=self._price(ticker))
        click_id = _click_id(body, errors)
        if errors:
            raise ApiError(400, "invalid order: " + "; ".join(f"{k}: {v}" for k, v in errors.items()), errors)
        strategy, ticker = self._strategy_ticker(strategy, ticker, destination)
        click_id = click_id or f"api-{uuid.uuid4().hex[:16]}"
        event = await self._ask(ManualOrder(click_id, strategy, ticker, side, qty, instructions, destination),
                                ManualActionCompleted, lambda e: e.click_id == click_id)
        if event.error:
            raise ApiError(409, event.error)
        rows = self.api.records.orders_of_cause(f"m{click_id}")
        ids = [r["client_order_id"] for r in rows]
        refused = await self._refused(ids)
        if refused:
            raise ApiError(409, "; ".join(refused))
        return web.json_response({"orders": ids}, status=201)

    def _price(self, ticker: str | None) -> Decimal | None:
        marks = getattr(getattr(self.api.book, "marks", None), "price", None)
        return marks(ticker) if marks and ticker else None

    def _strategy_ticker(self, strategy: str, ticker: str, destination: str | None = None) -> tuple[str, str]:
        config = self.api.config.load().strategy(strategy)
        if config is None:
            raise ApiError(404, f"no strategy named {strategy!r}")
        entry = config.ticker(ticker)
        if entry is None:
            raise ApiError(400, f"strategy {config.name} does not list ticker {ticker}",
                           {"ticker": "not listed by the strategy"})
        if destination is not None and destination not in entry.destination_names():
            raise ApiError(400, f"{config.name} / {entry.ticker} does not go to {destination}",
                           {"destination": f"not a destination of {entry.ticker} ({', '.join(entry.destination_names())})"})
        return config.name, entry.ticker

    async def _refused(self, ids: list[str]) -> list[str]:
        """Once every entry left `new` (or after a short wait): the reasons, if every one was rejected."""
        book = self.api.book
        entries = [c for c in ids if getattr(book.order(c), "status", None) is not OrderStatus.HELD]
        deadline = asyncio.get_running_loop().time() + OUTCOME_S
        while asyncio.get_running_loop().time() < deadline:
            if all(book.order(c) is None or book.order(c).status is not OrderStatus.NEW for c in entries):
                break
            await asyncio.sleep(0.02)
        orders = [book.order(c) for c in entries]
        if orders and all(o is not None and o.status is OrderStatus.REJECTED for o in orders):
            return [f"{o.client_order_id}: {o.reason}" for o in orders]
        return []

    # ---- DELETE, PATCH -----------------------------------------------------------------------------

    def _order(self, request: web.Request):
        coid = request.match_info["id"]
        order = self.api.book.order(coid)
        if order is None:
            if self.api.records.order_record(coid) is None:
                raise ApiError(404, f"no order {coid}")
            raise ApiError(409, f"{coid} is no longer open")
        if order.status.is_terminal:
            raise ApiError(409, f"{coid} is already {order.status}")
        return order

    async def cancel(self, request: web.Request) -> web.Response:
        order = self._order(request)
        coid = order.client_order_id
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()

        def on_update(event: OrderUpdated) -> None:
            if event.order.client_order_id == coid and event.order.status.is_terminal and not done.done():
                done.set_result(None)

        def on_refused(event: OrderActionRefused) -> None:
            if event.client_order_id == coid and event.action == "cancel" and not done.done():
                done.set_result(event.reason)

        unsubscribe = [self.bus.subscribe(OrderUpdated, on_update), self.bus.subscribe(OrderActionRefused, on_refused)]
        try:
            self.bus.publish(CancelOrder(coid))
            try:
                refusal = await asyncio.wait_for(done, WAIT_S)
            except asyncio.TimeoutError:
                refusal = None  # asked; the destination has not answered yet
        finally:
            for off in unsubscribe:
                off()
        if refusal:
            raise ApiError(409, f"{coid} was not cancelled: {refusal}")
        return self._answer(coid)

    async def change(self, request: web.Request) -> web.Response:
        order = self._order(request)
        body = await json_body(request)
        errors: dict[str, str] = {}
        values: dict[str, Decimal] = {}
        for key in body:
            if key not in ("qty", "limit_price", "stop_price"):
                errors[str(key)[:40]] = "cannot be changed (qty, limit_price or stop_price)"
        for key in ("qty", "limit_price", "stop_price"):
            if body.get(key) is not None:
                try:
                    values[key] = positive_number(body[key])
                except ValueError as exc:
                    errors[key] = str(exc)
        if not values and not errors:
            errors["body"] = "give qty, limit_price or stop_price"
        if errors:
            raise ApiError(400, "invalid change", errors)
        request_id = uuid.uuid4().hex
        event = await self._ask(ChangeOrder(request_id, order.client_order_id, **values), OrderChanged,
                                lambda e: e.request_id == request_id)
        if event.error:
            raise ApiError(409, event.error)
        return self._answer(event.client_order_id)

    # ---- POST /api/positions/close ------------------------------------------------------------------

    async def close(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        errors: dict[str, str] = {}
        strategy, ticker = _text(body, "strategy", errors), _text(body, "ticker", errors)
        destination = _text(body, "destination", errors, required=False)
        if errors:
            raise ApiError(400, "missing or invalid fields", errors)
        strategy, ticker = self._strategy_ticker(strategy, ticker)
        click_id = body.get("click_id") if isinstance(body.get("click_id"), str) and CLICK_ID.match(body["click_id"]) \
            else f"api-{uuid.uuid4().hex[:16]}"
        event = await self._ask(ClosePosition(click_id, strategy, ticker, destination), ManualActionCompleted,
                                lambda e: e.click_id == click_id)
        if event.error:
            raise ApiError(409, event.error)
        from station.web.api.routes import order_json

        rows = self.api.records.orders_of_cause(f"m{click_id}")
        return web.json_response({"status": "success", "orders": [order_json(r) for r in rows]})

    # ---- POST /api/positions/protect ----------------------------------------------------------------

    async def protect(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        errors = {str(key)[:40]: "is not a field of a protection" for key in body if key not in PROTECT_FIELDS}
        strategy, ticker = _text(body, "strategy", errors), _text(body, "ticker", errors)
        destination = _text(body, "destination", errors, required=False)
        levels = {}
        for key, read in (("stop_loss", read_exit_level), ("take_profit", read_exit_level),
                          ("trailing_stop", read_offset)):
            if body.get(key) is not None:
                try:
                    levels[key] = read(body[key])
                except ValueError as exc:
                    errors[key] = str(exc)
        if not levels and not any(key in errors for key in ("stop_loss", "take_profit", "trailing_stop")):
            errors["stop_loss"] = "give stop_loss or trailing_stop, take_profit, or both"
        if "stop_loss" in levels and "trailing_stop" in levels:
            errors["trailing_stop"] = "not together with stop_loss"
        click_id = _click_id(body, errors)
        if errors:
            raise ApiError(400, "invalid protection: " + "; ".join(f"{k}: {v}" for k, v in errors.items()), errors)
        strategy, ticker = self._strategy_ticker(strategy, ticker, destination)
        destination = destination or self._held_at(strategy, ticker)
        click_id = click_id or f"api-{uuid.uuid4().hex[:16]}"
        event = await self._ask(ProtectPosition(click_id, strategy, ticker, destination, **levels),
                                ManualActionCompleted, lambda e: e.click_id == click_id)
        if event.error:
            raise ApiError(409, event.error)
        from station.web.api.routes import order_json

        orders = []
        for row in self.api.records.orders_of_cause(f"m{click_id}"):
            body = order_json(row)
            live = self.api.book.order(row["client_order_id"])
            if live is not None:  # at work already: the book is ahead of the row by a commit
                body.update(live_fields(live))
            orders.append(body)
        return web.json_response({"status": "success", "orders": orders})

    def _held_at(self, strategy: str, ticker: str) -> str:
        """The one destination holding the strategy's position in the ticker (409 none, 400 several)."""
        held = sorted({m.position.destination for m in self.api.book.marked_positions(include_flat=False)
                       if m.position.strategy == strategy and m.position.ticker == ticker})
        if not held:
            raise ApiError(409, f"no open position for {strategy} / {ticker}")
        if len(held) > 1:
            raise ApiError(400, f"{strategy} / {ticker} is held at {', '.join(held)}: name one",
                           {"destination": f"required: the position is held at {', '.join(held)}"})
        return held[0]

    # ---- helpers -----------------------------------------------------------------------------------

    async def _ask(self, command, answer: type, matches: Callable[[Any], bool]):
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()

        def on_answer(event) -> None:
            if matches(event) and not future.done():
                future.set_result(event)

        unsubscribe = self.bus.subscribe(answer, on_answer)
        try:
            self.bus.publish(command)
            try:
                return await asyncio.wait_for(future, WAIT_S)
            except asyncio.TimeoutError:
                raise ApiError(504, "the order manager did not answer in time") from None
        finally:
            unsubscribe()

    def _answer(self, coid: str) -> web.Response:
        from station.web.api.routes import order_json

        row = self.api.records.order_record(coid)
        order = self.api.book.order(coid)
        body = order_json(row) if row is not None else {"id": coid}
        if order is not None:  # the book is ahead of the row by at most one commit
            body.update(live_fields(order))
        return web.json_response({"status": "success", "order": body})


def live_fields(order) -> dict[str, Any]:
    """What the book knows of an order now, as the API writes it."""
    from station.web.api.routes import num

    request = order.request
    return {"status": order.status.value, "qty": num(request.qty), "filled_qty": num(order.filled_qty),
            "avg_price": num(order.avg_price), "limit_price": num(request.limit_price),
            "stop_price": num(request.stop_price), "order_type": request.order_type.value,
            "replaced_by": order.replaced_by, "replaces": request.replaces}


def _click_id(body: dict[str, Any], errors: dict[str, str]) -> str | None:
    """The request's `click_id` (a retry with the same one makes nothing new), None when not given."""
    click_id = body.get("click_id")
    if click_id is not None and (not isinstance(click_id, str) or not CLICK_ID.match(click_id)):
        errors["click_id"] = "1-64 letters, digits or _.:-"
        return None
    return click_id


def _text(body: dict[str, Any], key: str, errors: dict[str, str], *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        errors[key] = "is required (a non-empty string)" if required else "must be a non-empty string"
        return None
    return value.strip()
