"""`GET /api/refusals`: refused webhook requests, newest first (`time`, `source`, `status`, `reason`, `strategy`, `body`).

Read through `queries.RefusalQueries` (the store's `RefusalRepository`); `?limit=N` as every
collection, `?since=` an ISO time read as for alerts and orders. The bearer token is checked by the API's middleware.
"""

from __future__ import annotations

from aiohttp import web

from station.domain.refusals import Refusal
from station.queries import RefusalQueries
from station.web.api.auth import ApiError
from station.web.api.routes import limit_of, since_of


def refusal_json(refusal: Refusal) -> dict:
    """One refusal as the API lists it."""
    return {"time": refusal.at.isoformat(), "source": refusal.source, "status": refusal.status,
            "reason": refusal.reason, "strategy": refusal.strategy, "body": refusal.body}


def install(router: web.UrlDispatcher, refusals: RefusalQueries) -> None:
    """Add `GET /api/refusals` over `refusals`."""

    async def list_refusals(request: web.Request) -> web.Response:
        limit = limit_of(request)
        since = request.query.get("since")
        try:
            since_time = since_of(since) if since else None  # as for alerts and orders: no zone is US/Eastern
        except ValueError:
            raise ApiError(400, "since must be an ISO time", {"since": f"{since!r} is not an ISO time"}) from None
        await refusals.settled()  # a request refused just before is listed (its row is written lazily)
        return web.json_response({"refusals": [refusal_json(r) for r in refusals.latest_refusals(limit, since_time)]})

    router.add_get("/api/refusals", list_refusals)
