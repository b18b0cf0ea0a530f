"""The route table: which paths exist, which methods they take, and how a push is read.

Loki picks the JSON dialect from the path (/loki/api/v1 is v1, /api/prom is legacy); OTLP logs
use Loki's path, so an OTLP exporter's base URL is https://<host>/otlp.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple

from loki_ingest.decoding.push import Dialect
from loki_ingest.errors import MethodNotAllowed, NotFound
from loki_ingest.http.request import Request


class Route(NamedTuple):
    path: str
    kind: Literal["push", "health"]
    allow: str
    dialect: Dialect = "v1"


ROUTES: Mapping[str, Route] = {
    route.path: route
    for route in (
        Route("/loki/api/v1/push", "push", "POST", "v1"),
        Route("/api/prom/push", "push", "POST", "legacy"),
        Route("/otlp/v1/logs", "push", "POST", "otlp"),
        Route("/healthz", "health", "GET, HEAD"),
        Route("/ready", "health", "GET, HEAD"),
    )
}


def route_path(request: Request) -> str:
    return request.path.rstrip("/") or "/"


def find(request: Request) -> Route | None:
    """The request's route, whatever its method (None: no such path)."""
    return ROUTES.get(route_path(request))


def match(request: Request) -> Route:
    """The route that serves this request, or the 404 / 405 that says why none does."""
    path = route_path(request)
    route = ROUTES.get(path)
    if route is None:
        target = "/otlp/v1/logs" if path.startswith(("/otlp", "/v1/")) else "/loki/api/v1/push"
        raise NotFound(f"no route for {path[:100]}; push to {target}")
    if request.method not in route.allow.split(", "):
        raise MethodNotAllowed(f"{request.method} is not allowed on {path}; use {route.allow}", allow=route.allow)
    return route
