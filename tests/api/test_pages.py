"""The dashboard and the badge wall: pages under a strict policy, vendored files cached by version."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    ("path", "vendored", "framing"),
    [
        ("/admin", "/admin/assets/htm-preact-3.1.1.module.js", "frame-ancestors 'none'"),
        ("/wall", "/wall/assets/graphql-ws-6.4.2.min.js", "frame-ancestors *"),
    ],
)
async def test_pages_load_only_their_own_files(
    http: httpx.AsyncClient, path: str, vendored: str, framing: str
) -> None:
    page = await http.get(path)
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and framing in policy
    assert "http://" not in page.text and "https://" not in page.text
    files = await http.get(vendored)
    assert files.status_code == 200
    assert files.headers["cache-control"] == "public, max-age=31536000, immutable"
    own = await http.get(f"{path}/assets/{'admin.js' if path == '/admin' else 'wall.js'}")
    assert own.headers["cache-control"] == "public, no-cache"
    assert (await http.get(f"{path}/assets/nothing.js")).status_code == 404
