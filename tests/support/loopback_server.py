"""An aiohttp server on 127.0.0.1 that can go down and come back on the same port (broker doubles)."""

from __future__ import annotations

from aiohttp import web

from support.launch import free_port


class LoopbackServer:
    """Base of the broker doubles: `start()`, `stop()` (the broker is down), `start()` again (back)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = web.Application()
        self.requests: list[tuple[str, str]] = []
        self._runner: web.AppRunner | None = None
        self.app.middlewares.append(self._log_request)

    def routes(self, table: list[tuple[str, str, object]]) -> None:
        for method, path, handler in table:
            self.app.router.add_route(method, path, handler)

    @web.middleware
    async def _log_request(self, request: web.Request, handler):
        self.requests.append((request.method, request.path))
        return await handler(request)

    def count(self, method: str, path_part: str) -> int:
        """How many requests of `method` went to a path containing `path_part`."""
        return sum(1 for m, p in self.requests if m == method and path_part in p)

    async def start(self) -> "LoopbackServer":
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def move_position(positions: dict[str, dict], symbol: str, signed: int, price, **fields) -> None:
    """Apply a fill of `signed` quantity at `price` to a double's book of {symbol: {qty, avg, …}}."""
    from decimal import Decimal

    held = positions.setdefault(symbol, {"qty": 0, "avg": Decimal(0), **fields})
    qty, price = held["qty"], Decimal(price)
    if qty == 0 or (qty > 0) == (signed > 0):
        held["avg"] = (held["avg"] * abs(qty) + price * abs(signed)) / abs(qty + signed)
    elif abs(signed) > abs(qty):
        held["avg"] = price
    held["qty"] = qty + signed
    if held["qty"] == 0:
        del positions[symbol]
