"""The dashboard's Points page in a real browser: a points system, a metric trigger and a level
set up through its forms, a refused trigger shown beside its field, and an event's points seen
in the level summary."""

from __future__ import annotations

from chromium import browsing, needs_chromium
from conftest import Api, LiveServer
from playwright.async_api import Page, expect

pytestmark = needs_chromium

TRIGGERS = '{ pointsSystem(key: "xp") { triggers(status: [ACTIVE, INACTIVE]) { __typename } } }'


async def sign_in(page: Page, server: LiveServer, key: str) -> None:
    await page.goto(f"{server.url}/admin")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()


async def test_a_points_system_set_up_in_the_dashboard_levels_a_user(
    live_api: Api, live_server: LiveServer
) -> None:
    await live_api.metric("lessons")
    async with browsing() as browser:
        page = browser.page
        await sign_in(page, live_server, live_api.key)
        await page.get_by_role("link", name="Points").click()
        await expect(page.get_by_role("heading", name="Points", exact=True)).to_be_visible()
        await expect(page.get_by_text("No points system yet.")).to_be_visible()

        form = page.get_by_role("form", name="New points system")
        await form.get_by_label("Key").fill("xp")
        await form.get_by_label("Name").fill("Experience")
        await form.get_by_role("button", name="Create points system").click()
        system = page.get_by_role("region", name="Points system xp")
        await expect(system.get_by_role("heading", name="Experience")).to_be_visible()

        trigger = system.get_by_role("form", name="New trigger for xp")
        await trigger.get_by_label("Type").select_option("metric")
        await trigger.get_by_label("Key").fill("per-lesson")
        await trigger.get_by_label("Points").fill("0")
        await trigger.get_by_label("Metric").select_option("lessons")
        await trigger.get_by_label("Every").fill("1")
        await trigger.get_by_role("button", name="Add trigger").click()
        points = trigger.locator(".field", has=page.get_by_label("Points"))
        await expect(points.locator(".error")).to_contain_text("non-zero")
        await browser.screenshot("admin-points-error-1280.png")
        assert (await live_api.data(TRIGGERS))["pointsSystem"]["triggers"] == []

        await trigger.get_by_label("Points").fill("10")
        await trigger.get_by_role("button", name="Add trigger").click()
        row = system.locator('tr[data-key="per-lesson"]')
        await expect(row).to_contain_text("every 1 of lessons")
        await expect(row).to_contain_text("INACTIVE")
        await expect(points.locator(".error")).to_have_count(0)
        await row.get_by_role("button", name="Activate per-lesson").click()
        await expect(row.get_by_role("button", name="Deactivate per-lesson")).to_be_visible()
        await expect(row.get_by_role("cell", name="ACTIVE", exact=True)).to_be_visible()

        level = system.get_by_role("form", name="New level for xp")
        await level.get_by_label("Key").fill("bronze")
        await level.get_by_label("Name").fill("Bronze")
        await level.get_by_label("From points").fill("10")
        await level.get_by_role("button", name="Add level").click()
        bronze = system.locator('tr[data-key="bronze"]')
        await expect(bronze.locator(".users")).to_have_text("0")

        body = await live_api.track("ada", 1)
        assert "errors" not in body, body
        await page.reload()
        bronze = page.get_by_role("region", name="Points system xp").locator(
            'tr[data-key="bronze"]'
        )
        await expect(bronze.locator(".users")).to_have_text("1")
        await browser.screenshot("admin-points-1280.png")
        assert browser.refused == []

    async with browsing(width=375, height=800) as narrow:
        await sign_in(narrow.page, live_server, live_api.key)
        await narrow.page.get_by_role("link", name="Points").click()
        await expect(narrow.page.locator('tr[data-key="bronze"] .users')).to_have_text("1")
        await narrow.screenshot("admin-points-375.png")
