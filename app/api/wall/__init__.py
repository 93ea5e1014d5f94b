"""The badge wall at /wall: a user's achievements as badges, for end users, from a user token.

Plain HTML, CSS and one ES module, plus graphql-ws (vendored from npm with its licence) for the
unlock subscription: no build step and nothing from the internet. It uses only the public
GraphQL API with the user's own token, so it shows exactly what that user may see. Embeddable
in an iframe (it only displays); themed through CSS custom properties.
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
    "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors *"
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
        Route("/wall", page, methods=["GET"]),
        Mount("/wall/assets", app=AssetFiles(directory=HERE / "assets"), name="wall"),
    ]
