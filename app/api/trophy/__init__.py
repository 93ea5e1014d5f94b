"""Trophy's Application API, served at `/trophy/v1` so that Trophy's own SDKs work unchanged.

A translation only: requests become the engine's commands and the read side's queries, as
GraphQL's do, so exactly-once, idempotency, visibility and permissions are the same; the
transport middleware has already authenticated and rate-limited the request. docs/trophy.md
lists the endpoints and where Laurel's answers differ from Trophy's.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from app.api.errors import http_error
from app.api.trophy import achievements, users
from app.api.trophy.endpoint import Handler, endpoint, json_response
from app.api.trophy.openapi import document

PREFIX = "/trophy/v1"


def facade() -> Starlette:
    """Mounted at PREFIX; main.py gives its `state` the services, as the outer app's."""
    routes = [
        _route("/metrics/{key}/event", POST=("metrics.event", achievements.metric_event)),
        _route(
            "/achievements/{key}/complete",
            POST=("achievements.complete", achievements.complete),
        ),
        _route("/achievements", GET=("achievements.all", achievements.catalogue)),
        _route(
            "/users/{id}",
            GET=("users.get", users.profile),
            PUT=("users.identify", users.identify),
        ),
        _route("/users/{id}/achievements", GET=("users.achievements", users.achievements)),
        _route("/users/{id}/metrics", GET=("users.all_metrics", users.metrics)),
        _route("/users/{id}/metrics/{key}", GET=("users.single_metric", users.metric)),
        _route("/users/{id}/streak", GET=("users.streak", users.streak)),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})


def _route(path: str, **by_method: tuple[str, Handler]) -> Route:
    """One route per path, so that a 405 lists every method the path has in `Allow`."""
    endpoints = {m: endpoint(f"trophy.{name}", h) for m, (name, h) in by_method.items()}

    async def dispatch(request: Request) -> Any:
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method](request)

    return Route(path, dispatch, methods=list(endpoints))


async def openapi(request: Request) -> Any:
    """Its server is where it was fetched from, so a client reaches the facade that served it."""
    here = str(request.url.replace(query=""))
    return json_response(document(here.removesuffix("/openapi.json")))
