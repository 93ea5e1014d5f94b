"""The admin dashboard at /admin: the programme run by people, over Laurel's public GraphQL API.

Signed in with an ADMIN key kept in the tab's session storage (never in a URL). Preact with htm,
and uPlot for charts, vendored from npm with their licences: no build step, nothing from the
internet. Every form shows the server's own error messages beside the fields they concern
(`extensions.field`).
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount, Route

from app.api.pages import page_routes

POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' http: https: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def routes() -> list[Route | Mount]:
    return page_routes("/admin", Path(__file__).parent, POLICY)
