"""The admin dashboard at /admin: the programme run by people, over Laurel's public GraphQL API.

Signed in with an ADMIN key kept in the tab's session storage (never in a URL). Preact with htm,
vendored from npm with their licences: no build step, nothing from the internet. Every form
shows the server's own error messages beside the fields they concern (`extensions.field`).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route

from app.api.graphiql import AssetFiles

HERE = Path(__file__).parent
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' http: https: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(
        (HERE / "page.html").read_text(encoding="utf-8"),
        headers={
            "Content-Security-Policy": PAGE_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )


def routes() -> list[Route | Mount]:
    return [
        Route("/admin", page, methods=["GET"]),
        Mount("/admin/assets", app=AssetFiles(directory=HERE / "assets"), name="admin"),
    ]
