"""GraphiQL served by Laurel itself, from vendored files: it works without internet access.

The page (`page.html`) loads only Laurel's own `/graphiql/` files, which its Content-Security-
Policy enforces; its files are cached as `app.api.pages.AssetFiles` says.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount

from app.api.pages import AssetFiles

HERE = Path(__file__).parent
ASSETS = HERE / "assets"
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


def assets() -> Mount:
    return Mount("/graphiql", app=AssetFiles(directory=ASSETS), name="graphiql")


def page() -> HTMLResponse:
    return HTMLResponse(
        (HERE / "page.html").read_text(encoding="utf-8"),
        headers={"Content-Security-Policy": PAGE_POLICY, "X-Content-Type-Options": "nosniff"},
    )
