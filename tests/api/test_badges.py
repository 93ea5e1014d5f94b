"""Badge uploads over GraphQL multipart requests, and the route that serves them."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Api, LiveServer, new_tenant, throwaway_database
from PIL import Image

UPLOAD = (
    "mutation($f: Upload!) { uploadBadge(file: $f) { url contentType size width height sha256 } }"
)


def image(kind: str = "PNG", size: tuple[int, int] = (64, 48), colour: str = "gold") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, kind)
    return out.getvalue()


async def upload(
    api: Api, data: bytes, *, headers: dict[str, str] | None = None, name: str = "b.png"
) -> httpx.Response:
    operations = json.dumps({"query": UPLOAD, "variables": {"f": None}})
    return await api.client.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.f"]})},
        files={"0": (name, data, "image/png")},
        headers={"X-API-Key": api.key} if headers is None else headers,
    )


async def uploaded(api: Api, data: bytes) -> dict[str, Any]:
    body = (await upload(api, data)).json()
    assert "errors" not in body, body
    return dict(body["data"]["uploadBadge"])


@pytest.mark.parametrize(
    ("kind", "content_type", "extension"),
    [
        ("PNG", "image/png", "png"),
        ("JPEG", "image/jpeg", "jpg"),
        ("GIF", "image/gif", "gif"),
        ("WEBP", "image/webp", "webp"),
    ],
)
async def test_an_image_is_hosted_and_served_with_safe_headers(
    api: Api, kind: str, content_type: str, extension: str
) -> None:
    data = image(kind)
    badge = await uploaded(api, data)
    assert (badge["contentType"], badge["width"], badge["height"]) == (content_type, 64, 48)
    assert badge["size"] == len(data)
    assert badge["url"].startswith("http://laurel/badges/") and badge["url"].endswith(extension)
    served = await api.client.get(badge["url"].removeprefix("http://laurel"))
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == content_type
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["etag"] == f'"{badge["sha256"]}"'
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"


async def test_the_same_bytes_give_the_same_url_in_a_tenant_only(
    api: Api, http: httpx.AsyncClient
) -> None:
    data = image(colour="teal")
    first, again = await uploaded(api, data), await uploaded(api, data)
    assert first == again
    other = await uploaded(await new_tenant(http), data)
    assert other["sha256"] == first["sha256"] and other["url"] != first["url"]
    assert (await uploaded(api, image(colour="navy")))["url"] != first["url"]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "PNG, JPEG"),
        (b"GIF89a" + b"\0" * 10, "cannot be read"),
        (image(size=(2049, 10)), "2048"),
        (image("BMP"), "PNG, JPEG"),
    ],
)
async def test_what_is_not_a_small_raster_image_is_refused(api: Api, data: bytes, why: str) -> None:
    body = (await upload(api, data)).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert why in error["message"]


async def test_a_file_over_a_mebibyte_is_refused(api: Api) -> None:
    big = image() + b"\0" * (1024 * 1024)
    body = (await upload(api, big)).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    too_big = await upload(api, b"\0" * (3 * 1024 * 1024))
    assert too_big.status_code == 413


async def test_only_admin_keys_upload(api: Api) -> None:
    server = await api.server_key()
    refused = (await upload(api, image(), headers={"X-API-Key": server})).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    token = (await api.data('mutation { createUserToken(userId: "ada") { token } }'))[
        "createUserToken"
    ]["token"]
    by_token = await upload(api, image(), headers={"Authorization": f"Bearer {token}"})
    assert by_token.status_code == 400  # a multipart request needs an API key
    assert "X-API-Key" in by_token.json()["errors"][0]["message"]


async def test_unknown_badges_are_not_found(api: Api) -> None:
    badge = await uploaded(api, image(colour="plum"))
    path = badge["url"].removeprefix("http://laurel")
    for wrong in (path.replace(".png", ".gif"), "/badges/" + "0" * 32 + ".png", "/badges/x.png"):
        assert (await api.client.get(wrong)).status_code == 404


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:image/png;base64,AAAA", "/b.png"])
async def test_badge_urls_must_be_http(api: Api, url: str) -> None:
    await api.metric("lessons")
    code = await api.error_code(
        'mutation($u: String) { createAchievement(input: {key: "k", name: "k", '
        "trigger: {api: true}, badgeUrl: $u}) { __typename } }",
        {"u": url},
    )
    assert code == "BAD_USER_INPUT"


async def test_a_value_standing_in_for_the_file_is_refused(api: Api) -> None:
    code = await api.error_code('mutation { uploadBadge(file: "x") { url } }')
    assert code == "BAD_USER_INPUT"


@pytest.fixture(scope="module")
def directory_server(app: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Badges on disk, on a database of its own (so no other server reads those rows)."""
    folder = tmp_path_factory.mktemp("badges")
    with throwaway_database("laurel_badges") as url:
        server = LiveServer(
            url,
            "badges.key",
            env={"LAUREL_BADGE_STORAGE": "directory", "LAUREL_BADGE_DIRECTORY": str(folder)},
        )
        server.folder = folder  # type: ignore[attr-defined]
        yield server
        server.stop()


async def test_badges_can_live_in_a_directory(directory_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=directory_server.url) as client:
        owner = Api(client, "badges.key", 0)
        data = image(colour="orchid")
        badge = await uploaded(owner, data)
        name = badge["url"].rsplit("/", 1)[1]
        folder: Path = directory_server.folder  # type: ignore[attr-defined]
        assert (folder / name).read_bytes() == data
        served = await client.get(f"/badges/{name}")
        assert (served.status_code, served.content) == (200, data)
        assert await uploaded(owner, data) == badge
        assert await asyncio.to_thread(lambda: [p.name for p in folder.iterdir()]) == [name]
