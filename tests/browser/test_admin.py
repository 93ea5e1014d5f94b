"""The admin dashboard in a real browser: sign-in by role, a programme set up through its forms
(with the server's messages beside the fields), and what it sets up seen on the badge wall."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from chromium import browsing, needs_chromium
from conftest import Api, LiveServer
from PIL import Image
from playwright.async_api import expect
from webhook_receiver import Receiver

STREAK_SAVED = "Now: daily, on lessons; freezes: 1 to start, at most 2."

pytestmark = needs_chromium


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 80), "seagreen").save(out, "PNG")
    return out.getvalue()


async def sign_in(page: object, server: LiveServer, key: str) -> None:
    await page.goto(f"{server.url}/admin")  # type: ignore[attr-defined]
    await page.get_by_label("API key").fill(key)  # type: ignore[attr-defined]
    await page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]


async def test_a_server_key_cannot_sign_in(live_api: Api, live_server: LiveServer) -> None:
    server_key = await live_api.server_key()
    async with browsing() as browser:
        await sign_in(browser.page, live_server, server_key)
        await expect(browser.page.get_by_role("alert")).to_contain_text("needs an ADMIN key")
        assert await browser.page.evaluate("sessionStorage.getItem('laurel-admin-key')") is None
        await browser.screenshot("admin-sign-in-refused-1280.png")


async def test_a_programme_set_up_in_the_dashboard_reaches_the_wall(
    live_api: Api, live_server: LiveServer
) -> None:
    async with browsing() as browser:
        page = browser.page
        await sign_in(page, live_server, live_api.key)
        await expect(page.get_by_role("heading", name="Achievements", exact=True)).to_be_visible()
        assert "key" not in page.url.lower()

        await page.get_by_role("link", name="Metrics").click()
        form = page.get_by_role("form", name="New metric")
        await form.get_by_label("Key").fill("lessons")
        await form.get_by_label("Name").fill("Lessons")
        await form.get_by_role("button", name="Create metric").click()
        await expect(page.get_by_role("cell", name="Lessons", exact=True)).to_be_visible()
        await browser.screenshot("admin-metrics-1280.png")

        await page.get_by_role("link", name="Achievements").click()
        form = page.get_by_role("form", name="New achievement")
        await form.get_by_label("Key").fill("five")
        await form.get_by_label("Name").fill("Five lessons")
        await form.get_by_label("Metric", exact=True).select_option("lessons")
        await form.get_by_label("Threshold").fill("-1")
        await form.get_by_role("button", name="Create achievement").click()
        threshold = form.locator(".field", has=page.get_by_label("Threshold"))
        await expect(threshold.locator(".error")).to_contain_text("greater than 0")
        await browser.screenshot("admin-achievement-error-1280.png")

        await form.get_by_label("Threshold").fill("3")
        await form.get_by_label("Badge").set_input_files(
            files=[{"name": "five.png", "mimeType": "image/png", "buffer": png()}]
        )
        await expect(form.get_by_alt_text("Badge preview")).to_be_visible()
        await form.get_by_role("button", name="Create achievement").click()
        row = page.locator('tr[data-key="five"]')
        await expect(row).to_contain_text("lessons ≥ 3")
        await row.get_by_label("Status of five").select_option("ACTIVE")
        await expect(row.get_by_label("Status of five")).to_have_value("ACTIVE")
        await expect(row.locator("img.thumb")).to_have_js_property("naturalWidth", 80)
        await browser.screenshot("admin-achievements-1280.png")

        await row.get_by_role("button", name="Details of five").click()
        detail = page.get_by_role("region", name="Achievement five")
        await expect(detail.locator("canvas").first).to_be_visible()
        await expect(detail.locator("figcaption")).to_contain_text("0 in all")
        edit = detail.get_by_role("form", name="Edit achievement")
        await edit.get_by_label("Threshold").fill("0")
        await edit.get_by_role("button", name="Save changes").click()
        await expect(
            edit.locator(".field", has=page.get_by_label("Threshold")).locator(".error")
        ).to_contain_text("greater than 0")
        await edit.get_by_label("Threshold").fill("3")
        await edit.get_by_label("Description").fill("Three lessons, in fact")
        await edit.get_by_role("button", name="Save changes").click()
        await expect(edit.get_by_role("status")).to_have_text("Saved.")

        token = (await live_api.data('mutation { createUserToken(userId: "ada") { token } }'))[
            "createUserToken"
        ]["token"]
        await live_api.track("ada", 1)
        wall = await page.context.new_page()
        await wall.goto(f"{live_server.url}/wall?token={token}")
        badge = wall.locator('li[data-key="five"]')
        await expect(badge.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "33")
        await expect(badge.locator("img")).to_have_js_property("naturalWidth", 80)
        await live_api.track("ada", 2)
        await expect(wall.locator(".toast")).to_contain_text("Five lessons")
        await expect(badge).to_have_class("badge completed")
        await expect(badge).to_contain_text("Three lessons, in fact")

        await page.reload()
        await page.get_by_role("button", name="Details of five").click()
        detail = page.get_by_role("region", name="Achievement five")
        await expect(detail.locator("figcaption")).to_contain_text("1 in all")
        await browser.screenshot("admin-achievement-detail-1280.png")

        await page.get_by_role("link", name="Streak").click()
        await page.get_by_label("Lessons").check()
        await page.get_by_label("A freeze covers a missed period").check()
        await page.get_by_label("Freezes a new user holds").fill("1")
        await page.get_by_label("Most freezes a user can hold (1 to 100)").fill("2")
        await page.get_by_role("button", name="Save streak settings").click()
        await expect(page.get_by_text(STREAK_SAVED)).to_be_visible()
        await live_api.track("ada", 1)
        # Two days ago: yesterday is missed, and the freeze ada got when freezes came on covers it.
        await live_api.track(
            "ada", 1, occurredAt=(datetime.now(UTC) - timedelta(days=2)).isoformat()
        )

        await page.get_by_role("link", name="Users").click()
        await page.get_by_label("User ID").fill("ada")
        await page.get_by_role("button", name="Look up").click()
        await expect(page.locator(".profile")).to_contain_text("Five lessons")
        await expect(page.locator(".profile")).to_contain_text("Earned")
        calendar = page.get_by_role("list", name="Streak periods, oldest first")
        await expect(calendar.locator("li")).to_have_count(28)
        await expect(calendar.locator("li.active")).to_have_count(2)
        await expect(calendar.locator("li.frozen")).to_have_count(1)
        await expect(calendar.locator("li").last).to_have_class("active")
        await expect(page.locator(".facts")).to_contain_text("Freezes0")
        await browser.screenshot("admin-users-1280.png")
        for name, shot, ready in (
            ("Streak", "streak", STREAK_SAVED),
            ("API keys", "keys", "Rotating the secret"),
            ("Webhooks", "webhooks", "Event types"),
        ):
            await page.get_by_role("link", name=name).click()
            await expect(page.get_by_text(ready)).to_be_visible()
            await browser.screenshot(f"admin-{shot}-1280.png")
        assert browser.refused == []

    async with browsing(width=375, height=800) as narrow:
        await sign_in(narrow.page, live_server, live_api.key)
        await expect(narrow.page.locator('tr[data-key="five"]')).to_be_visible()
        await narrow.screenshot("admin-achievements-375.png")
        await narrow.page.get_by_role("link", name="Users").click()
        await narrow.page.get_by_label("User ID").fill("ada")
        await narrow.page.get_by_role("button", name="Look up").click()
        await expect(narrow.page.locator(".profile")).to_contain_text("Five lessons")
        await narrow.screenshot("admin-users-375.png")
        for name, shot, ready in (
            ("Metrics", "metrics", "Lessons"),
            ("Streak", "streak", STREAK_SAVED),
            ("API keys", "keys", "Rotating the secret"),
            ("Webhooks", "webhooks", "Event types"),
        ):
            await narrow.page.get_by_role("link", name=name).click()
            await expect(narrow.page.get_by_text(ready).first).to_be_visible()
            await narrow.screenshot(f"admin-{shot}-375.png")
        await narrow.page.get_by_role("button", name="Sign out").click()
        await expect(narrow.page.get_by_label("API key")).to_be_visible()
        await narrow.screenshot("admin-sign-in-375.png")


async def test_webhook_endpoints_are_managed_in_the_dashboard(
    live_api: Api, live_server: LiveServer
) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        async with browsing() as browser:
            page = browser.page
            await sign_in(page, live_server, live_api.key)
            await page.get_by_role("link", name="Webhooks").click()
            form = page.get_by_role("form", name="New endpoint")
            await form.get_by_label("URL").fill("ftp://hooks.example.com/in")
            await form.get_by_role("button", name="Create endpoint").click()
            url_field = form.locator(".field", has=page.get_by_label("URL"))
            await expect(url_field.locator(".error")).to_contain_text("http")
            await form.get_by_label("URL").fill(receiver.url)
            await form.get_by_role("button", name="Create endpoint").click()
            await expect(form.locator(".secret")).to_contain_text("whsec_")
            await page.get_by_role("button", name="Send test").click()
            [request] = await receiver.wait_for(1)
            assert request.json["type"] == "webhook.test"
            await page.get_by_role("button", name="Deliveries").click()
            await expect(page.get_by_role("cell", name="SUCCEEDED")).to_be_visible()
            await browser.screenshot("admin-webhook-log-1280.png")
    finally:
        await receiver.stop()
