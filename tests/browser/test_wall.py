"""The badge wall in a real browser: a user's badges from a user token, progress that moves as
events arrive, a toast when an unlock comes over the subscription, secrets masked."""

from __future__ import annotations

import io
import json

import httpx
from chromium import browsing, needs_chromium
from conftest import Api, LiveServer
from PIL import Image
from playwright.async_api import expect

pytestmark = needs_chromium

UPLOAD = "mutation($f: Upload!) { uploadBadge(file: $f) { url } }"


async def upload_badge(server: LiveServer, key: str) -> str:
    picture = io.BytesIO()
    Image.new("RGB", (96, 96), "goldenrod").save(picture, "PNG")
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/graphql",
            data={
                "operations": json.dumps({"query": UPLOAD, "variables": {"f": None}}),
                "map": json.dumps({"0": ["variables.f"]}),
            },
            files={"0": ("badge.png", picture.getvalue(), "image/png")},
            headers={"X-API-Key": key},
        )
    return str(response.json()["data"]["uploadBadge"]["url"])


async def test_the_wall_shows_progress_and_unlocks_as_they_happen(
    live_api: Api, live_server: LiveServer
) -> None:
    await live_api.metric("lessons")
    badge = await upload_badge(live_server, live_api.key)
    await live_api.achievement(
        "five",
        {"metric": {"metricKey": "lessons", "value": 5}},
        badgeUrl=badge,
        description="Five lessons done",
    )
    await live_api.achievement("secret", {"api": True}, hidden=True)
    await live_api.track("ada", 1)
    token = (await live_api.data('mutation { createUserToken(userId: "ada") { token } }'))[
        "createUserToken"
    ]["token"]

    async with browsing() as browser:
        page = browser.page
        await page.goto(f"{live_server.url}/wall?token={token}")
        five = page.locator('li[data-key="five"]')
        await expect(five.get_by_role("heading")).to_have_text("five")
        assert "token" not in page.url
        assert await page.evaluate("sessionStorage.getItem('laurel-wall-token')") == token
        bar = five.get_by_role("progressbar")
        await expect(bar).to_have_attribute("aria-valuenow", "20")
        await expect(page.locator('li[data-key="secret"] h2')).to_have_text("Secret achievement")
        await expect(five.locator("img")).to_have_js_property("complete", True)
        assert await five.locator("img").evaluate("image => image.naturalWidth") == 96
        await expect(five.locator(".rarity")).to_have_text("0% of players")
        await browser.screenshot("wall-1280.png")

        await live_api.track("ada", 2)
        await expect(bar).to_have_attribute("aria-valuenow", "60")
        await live_api.track("ada", 2)
        await expect(page.locator(".toast")).to_contain_text("Achievement unlocked: five")
        await expect(five).to_have_class("badge completed")
        await expect(five.locator(".earned")).to_contain_text("Earned")
        await expect(five.locator(".rarity")).to_have_text("100% of players")
        await browser.screenshot("wall-unlocked-1280.png")
        assert browser.refused == []

    async with browsing(width=375, height=740) as narrow:
        themed = "theme-accent=%23aa3300&theme-card=nonsense(1)"
        await narrow.page.goto(f"{live_server.url}/wall?token={token}&{themed}")
        earned = narrow.page.locator('li[data-key="five"] .earned')
        await expect(earned).to_be_visible()
        await expect(earned).to_have_css("color", "rgb(170, 51, 0)")
        card = narrow.page.locator('li[data-key="five"]')
        await expect(card).to_have_css("background-color", "rgb(255, 255, 255)")
        await narrow.screenshot("wall-375.png")


async def test_without_a_token_the_wall_says_how_to_open_it(live_server: LiveServer) -> None:
    async with browsing() as browser:
        await browser.page.goto(f"{live_server.url}/wall")
        await expect(browser.page.locator("#notice")).to_contain_text("?token=")
