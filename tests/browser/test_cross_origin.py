"""A frontend on another origin calls Laurel with a user token, in a real browser: allowed when
its origin is configured, blocked by the browser when not."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from chromium import browsing, needs_chromium
from conftest import Api, LiveServer, free_port, tenant_on

pytestmark = needs_chromium

PAGE = """<!doctype html><html><body><pre id="out">waiting</pre><script>
fetch(%(laurel)s + "/graphql", {
  method: "POST",
  headers: {"Content-Type": "application/json", "Authorization": "Bearer " + %(token)s},
  body: JSON.stringify({query: '{ user(id: "fan") { id metricTotal(metricKey: "lessons") } }'})
}).then(r => r.json())
  .then(body => { document.getElementById("out").textContent = JSON.stringify(body); })
  .catch(error => { document.getElementById("out").textContent = "failed: " + error; });
</script></body></html>"""


class Frontend:
    """A page served from its own loopback port: another origin than Laurel's."""

    def __init__(self, laurel: str, token: str, port: int | None = None) -> None:
        page = (PAGE % {"laurel": json.dumps(laurel), "token": json.dumps(token)}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: Any) -> None:
                return None

        self.port = port or free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def frontend_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def cors_server(
    app: Any, database_url: str, bootstrap_key: str, frontend_port: int
) -> Iterator[LiveServer]:
    origin = f"http://127.0.0.1:{frontend_port}"
    server = LiveServer(database_url, bootstrap_key, env={"LAUREL_CORS_ORIGINS": origin})
    yield server
    server.stop()


async def run_page(frontend: Frontend, screenshot: str) -> str:
    async with browsing() as browser:
        await browser.page.goto(frontend.url)
        out = browser.page.locator("#out")
        await out.filter(has_not_text="waiting").wait_for()
        await browser.screenshot(screenshot)
        assert browser.refused == []
        return str(await out.text_content())


async def test_a_configured_origin_reads_its_user_with_a_token(
    cors_server: LiveServer, http: Any, frontend_port: int
) -> None:
    async with tenant_on(cors_server, http) as tenant:
        await tenant.metric("lessons")
        assert "errors" not in await tenant.track("fan", 3)
        token = await user_token(tenant)
    frontend = Frontend(cors_server.url, token, port=frontend_port)
    try:
        text = await run_page(frontend, "cross-origin-allowed.png")
    finally:
        frontend.stop()
    assert json.loads(text) == {"data": {"user": {"id": "fan", "metricTotal": 3.0}}}


async def test_another_origin_is_blocked_by_the_browser(cors_server: LiveServer, http: Any) -> None:
    async with tenant_on(cors_server, http) as tenant:
        token = await user_token(tenant)
    frontend = Frontend(cors_server.url, token)
    try:
        text = await run_page(frontend, "cross-origin-refused.png")
    finally:
        frontend.stop()
    assert text.startswith("failed: TypeError")


async def user_token(tenant: Api) -> str:
    data = await tenant.data('mutation { createUserToken(userId: "fan") { token } }')
    return str(data["createUserToken"]["token"])
