"""REST: strategies (tickers, ports, destinations and quantities) and named destinations; start and stop.

Bodies use the config file's shapes; each change is checked whole and applied in
one transaction (or not at all), and bumps the config revision so it takes effect live.
Each strategy carries its `state` (`stopped`, `warming_up`, `running`, `halted` with its
`reason`): an engine strategy's from the engine, a plain one's from its switch and the kill switch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from station.domain.events import ConfigChanged
from station.domain.validation import ConfigError
from station.web.api.auth import ApiError, json_body
from station.web.api.strategy_state import StrategyStates

if TYPE_CHECKING:
    from station.web.api.routes import RestApi


def install(api: "RestApi", router: web.UrlDispatcher) -> None:
    handlers = StrategyHandlers(api)
    router.add_get("/api/strategies", handlers.list)
    router.add_post("/api/strategies", handlers.create)
    router.add_get("/api/strategies/{name}", handlers.get)
    router.add_put("/api/strategies/{name}", handlers.replace)
    router.add_patch("/api/strategies/{name}", handlers.patch)
    router.add_delete("/api/strategies/{name}", handlers.delete)
    router.add_put("/api/strategies/{name}/tickers/{ticker}", handlers.put_ticker)
    router.add_delete("/api/strategies/{name}/tickers/{ticker}", handlers.delete_ticker)
    router.add_post("/api/strategies/{name}/start", handlers.start)
    router.add_post("/api/strategies/{name}/stop", handlers.stop)
    router.add_get("/api/destinations", handlers.destinations)
    router.add_post("/api/destinations", handlers.create_destination)
    router.add_put("/api/destinations/{name}", handlers.put_destination)
    router.add_delete("/api/destinations/{name}", handlers.delete_destination)


def config_error(exc: ConfigError):
    return ApiError(400, f"invalid configuration: {exc}", exc.errors)


class StrategyHandlers:
    """CRUD handlers over ConfigRepository."""

    def __init__(self, api: "RestApi") -> None:
        self.bus = api.bus
        self.config, self.edits = api.parts.config, api.parts.edits
        self.states = StrategyStates(api.bus, api.parts)

    def _strategy(self, name: str) -> dict:
        document = self.config.strategy_document(name)
        if document is None:
            raise ApiError(404, f"no strategy named {name!r}")
        return {"name": name, **document, **self.states.of(name)}

    def _announce(self, revision: int) -> None:
        """Say at once that the config changed (the engine follows now, not at the watcher's next look)."""
        self.bus.publish(ConfigChanged(revision))

    async def _save(self, name: str, spec: dict, *, create: bool = False) -> None:
        try:
            self._announce(await self.edits.save_strategy(name, spec, create=create))
        except ConfigError as exc:
            if create and f"strategies.{name}" in exc.errors and "exists" in exc.errors[f"strategies.{name}"]:
                raise ApiError(409, f"a strategy named {name!r} exists; use PUT to replace it") from None
            raise config_error(exc) from None

    async def list(self, request: web.Request) -> web.Response:
        config = self.config.load()
        return web.json_response({"strategies": [self._strategy(s.name) for s in config.strategies]})

    async def get(self, request: web.Request) -> web.Response:
        return web.json_response({"strategy": self._strategy(request.match_info["name"])})

    async def create(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        name = body.pop("name", None)
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "a strategy needs a name", {"name": "is required (a non-empty string)"})
        await self._save(name.strip(), body, create=True)
        return web.json_response({"status": "success", "strategy": self._strategy(name.strip())}, status=201)

    async def replace(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await json_body(request)
        body.pop("name", None)
        await self._save(name, body)
        return web.json_response({"status": "success", "strategy": self._strategy(name)})

    async def patch(self, request: web.Request) -> web.Response:
        """Change some keys; `tickers` merge by ticker (null removes one); `name` renames."""
        name = request.match_info["name"]
        current = self._strategy(name)
        body = await json_body(request)
        new_name = body.pop("name", name)
        if not isinstance(new_name, str) or not new_name.strip():
            raise ApiError(400, "a strategy needs a name", {"name": "must be a non-empty string"})
        new_name = new_name.strip()
        if new_name != name and self.config.strategy_document(new_name) is not None:
            raise ApiError(409, f"a strategy named {new_name!r} exists")
        merged = {k: v for k, v in current.items() if k not in ("name", *StrategyStates.FIELDS)}
        tickers = body.pop("tickers", None)
        if tickers is not None:
            if not isinstance(tickers, dict):
                raise ApiError(400, "invalid configuration", {"tickers": "must be an object"})
            merged["tickers"] = {k: v for k, v in {**merged["tickers"], **tickers}.items() if v is not None}
        merged.update(body)
        await self._save(name, merged)
        if new_name != name:
            try:
                self._announce(await self.edits.rename_strategy(name, new_name))
            except ConfigError as exc:
                raise ApiError(409, str(exc), exc.errors) from None
        return web.json_response({"status": "success", "strategy": self._strategy(new_name)})

    async def delete(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            self._announce(await self.edits.delete_strategy(name))
        except KeyError:
            raise ApiError(404, f"no strategy named {name!r}") from None
        return web.json_response({"status": "success", "message": f"strategy {name} deleted"})

    async def put_ticker(self, request: web.Request) -> web.Response:
        name, ticker = request.match_info["name"], request.match_info["ticker"]
        current = self._strategy(name)
        spec = {k: v for k, v in current.items() if k not in ("name", *StrategyStates.FIELDS)}
        spec["tickers"] = {**spec["tickers"], ticker: await json_body(request)}
        await self._save(name, spec)
        return web.json_response({"status": "success", "strategy": self._strategy(name)})

    async def delete_ticker(self, request: web.Request) -> web.Response:
        name, ticker = request.match_info["name"], request.match_info["ticker"]
        current = self._strategy(name)
        if ticker not in current["tickers"]:
            raise ApiError(404, f"strategy {name} has no ticker {ticker!r}")
        spec = {k: v for k, v in current.items() if k not in ("name", *StrategyStates.FIELDS)}
        spec["tickers"] = {k: v for k, v in spec["tickers"].items() if k != ticker}
        await self._save(name, spec)
        return web.json_response({"status": "success", "strategy": self._strategy(name)})

    async def _switch(self, request: web.Request, running: bool) -> web.Response:
        name = request.match_info["name"]
        before = self.states.of(name)
        try:
            self._announce(await self.states.switch(name, running))
        except KeyError:
            raise ApiError(404, f"no strategy named {name!r}") from None
        state = await self.states.settled(name, running, before)
        if state["state"] == "halted":  # asked to run, and it cannot: say why (nothing trades)
            raise ApiError(409, f"strategy {name} did not start: {state['reason']}")
        word = "started" if running else "stopped"
        return web.json_response({"status": "success", "message": f"strategy {name} {word}", "strategy": name,
                                  "enabled": running, **state})

    async def start(self, request: web.Request) -> web.Response:
        return await self._switch(request, True)

    async def stop(self, request: web.Request) -> web.Response:
        return await self._switch(request, False)

    async def destinations(self, request: web.Request) -> web.Response:
        config = self.config.load()
        return web.json_response({"destinations": [{"name": d.name, "type": d.type, **d.params}
                                                   for d in config.destinations]})

    async def create_destination(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        name = body.pop("name", None)
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "a destination needs a name", {"name": "is required (a non-empty string)"})
        if self.config.load().destination(name.strip()) is not None:
            raise ApiError(409, f"a destination named {name!r} exists; use PUT to replace it")
        return await self._put_destination(name.strip(), body, 201)

    async def put_destination(self, request: web.Request) -> web.Response:
        return await self._put_destination(request.match_info["name"], await json_body(request), 200)

    async def _put_destination(self, name: str, body: dict, status: int) -> web.Response:
        try:
            self._announce(await self.edits.save_destination(name, body))
        except ConfigError as exc:
            raise config_error(exc) from None
        dest = self.config.load().destination(name)
        return web.json_response({"status": "success", "destination": {"name": name, "type": dest.type, **dest.params}},
                                 status=status)

    async def delete_destination(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            self._announce(await self.edits.delete_destination(name))
        except KeyError:
            raise ApiError(404, f"no destination named {name!r}") from None
        except ConfigError as exc:
            raise ApiError(409, str(exc), exc.errors) from None
        return web.json_response({"status": "success", "message": f"destination {name} deleted"})
