"""GraphiQL works offline: every file comes from Laurel, the credential pasted once serves HTTP
and WebSocket, and a subscription message arrives after a trackEvent."""

from __future__ import annotations

from urllib.parse import quote

import httpx
from chromium import browsing, needs_chromium
from conftest import Api, LiveServer, eventually
from playwright.async_api import expect

pytestmark = needs_chromium

SUBSCRIPTION = (
    "subscription { achievementUnlocked { user { id } "
    "achievement { achievement { ... on Achievement { key } } } } }"
)


async def subscriptions_started(server: LiveServer) -> float:
    async with httpx.AsyncClient(base_url=server.url) as client:
        text = (await client.get("/metrics")).text
    return next(
        float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("laurel_subscriptions_started_total ")
    )


async def test_graphiql_runs_queries_and_subscriptions_offline(
    live_api: Api, live_server: LiveServer
) -> None:
    await live_api.metric("lessons")
    await live_api.achievement("first", {"metric": {"metricKey": "lessons", "value": 1}})
    async with browsing() as browser:
        page = browser.page
        await page.goto(f"{live_server.url}/graphql")
        await page.fill("#credential-value", live_api.key)
        await page.click("#credential button[type=submit]")
        prefix = live_api.key.split(".")[0]
        await expect(page.locator("#credential-state")).to_contain_text(prefix)

        await page.goto(f"{live_server.url}/graphql#query={quote('{ metrics { key name } }')}")
        await page.click(".graphiql-execute-button")
        response = page.locator(".graphiql-response")
        await response.get_by_text('"lessons"').first.wait_for()
        await browser.screenshot("graphiql-query.png")

        started = await subscriptions_started(live_server)
        # A new fragment alone does not load the page again.
        await page.goto(f"{live_server.url}/graphql#query={quote(SUBSCRIPTION)}")
        await page.reload()
        await page.click(".graphiql-execute-button")

        async def subscribed() -> bool:
            return await subscriptions_started(live_server) > started

        await eventually(subscribed, what="GraphiQL's subscription")
        assert "errors" not in await live_api.track("grace", 1)
        await response.get_by_text('"first"').first.wait_for()
        await response.get_by_text('"grace"').first.wait_for()
        await browser.screenshot("graphiql-subscription.png")
    assert browser.refused == [], "GraphiQL asked for files outside Laurel"
