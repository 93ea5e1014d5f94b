"""Browser pages Laurel serves itself (the dashboard, the badge wall): an HTML page under a
strict Content-Security-Policy, and its vendored files beside it.

Files with a version in their name never change and are cached for a year; the others are
revalidated (ETag).
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

VERSIONED = re.compile(r"-\d+\.\d+\.\d+\.")


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


def page_routes(path: str, directory: Path, policy: str) -> list[Route | Mount]:
    """`directory/page.html` at `path`, and `directory/assets/` at `path/assets/`."""

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(
            (directory / "page.html").read_text(encoding="utf-8"),
            headers={
                "Content-Security-Policy": policy,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache",
            },
        )

    return [
        Route(path, page, methods=["GET"]),
        Mount(f"{path}/assets", app=AssetFiles(directory=directory / "assets")),
    ]
