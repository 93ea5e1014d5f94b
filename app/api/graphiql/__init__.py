"""GraphiQL served by Laurel itself, from vendored files: it works without internet access.

The page (`page.html`) loads only Laurel's own `/graphiql/` files, which its Content-Security-
Policy enforces. Files with a version in their name never change and are cached for a year; the
others are revalidated (ETag).
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

HERE = Path(__file__).parent
ASSETS = HERE / "assets"
VERSIONED = re.compile(r"-\d+\.\d+\.\d+\.")
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


class AssetFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = (
                "public, max-age=31536000, immutable"
                if VERSIONED.search(path)
                else "public, no-cache"
            )
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def assets() -> Mount:
    return Mount("/graphiql", app=AssetFiles(directory=ASSETS), name="graphiql")


def page() -> HTMLResponse:
    return HTMLResponse(
        (HERE / "page.html").read_text(encoding="utf-8"),
        headers={"Content-Security-Policy": PAGE_POLICY, "X-Content-Type-Options": "nosniff"},
    )
