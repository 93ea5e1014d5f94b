"""The badge wall at /wall: a user's achievements as badges, for end users, from a user token.

Plain HTML, CSS and one ES module, plus graphql-ws (vendored from npm with its licence) for the
unlock subscription: no build step and nothing from the internet. It uses only the public
GraphQL API with the user's own token, so it shows exactly what that user may see. Embeddable
in any iframe (it only displays); themed through CSS custom properties.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount, Route

from app.api.pages import page_routes

POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' http: https: data:; "
    "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors *"
)


def routes() -> list[Route | Mount]:
    return page_routes("/wall", Path(__file__).parent, POLICY)
