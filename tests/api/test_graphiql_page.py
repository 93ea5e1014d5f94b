"""The GraphiQL page and its files come from Laurel, with their caching and security headers."""

from __future__ import annotations

import re

from conftest import Api


async def test_the_page_loads_only_laurels_own_files(api: Api) -> None:
    page = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert references and all(r.startswith("/graphiql/") for r in references), references
    for reference in references:
        asset = await api.client.get(reference)
        assert asset.status_code == 200, reference
        assert asset.headers["x-content-type-options"] == "nosniff"
        cache = asset.headers["cache-control"]
        versioned = re.search(r"-\d+\.\d+\.\d+\.", reference)
        assert cache == ("public, max-age=31536000, immutable" if versioned else "public, no-cache")
        assert "unpkg.com" not in asset.text and "cdn." not in asset.text[:5000]


async def test_files_outside_the_folder_are_not_served(api: Api) -> None:
    for path in ("/graphiql/../page.html", "/graphiql/nope.js", "/graphiql/%2e%2e/__init__.py"):
        assert (await api.client.get(path)).status_code == 404, path
