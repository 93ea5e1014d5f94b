"""Debian's Chromium driven by Playwright, with every request outside 127.0.0.1 refused.

Never a downloaded browser: Playwright launches /usr/bin/chromium (`.ci/run` installs it from
Debian's packages). Tests skip, saying why, where it or Playwright is missing. Screenshots go to
`test-artifacts/` at the repository root.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _why_not() -> str | None:
    if not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None:
        return "browser tests need Debian's chromium (/usr/bin/chromium) and the playwright package"
    if os.environ.get("LAUREL_TEST_BACKEND", "sqlite") != "sqlite":
        return "what a browser sees does not depend on the database: runs in the SQLite suite"
    return None


needs_chromium = pytest.mark.skipif(_why_not() is not None, reason=_why_not() or "")


@dataclass
class Browsing:
    page: Any
    refused: list[str] = field(default_factory=list)

    async def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        await self.page.screenshot(path=str(path), full_page=True)
        return path


@asynccontextmanager
async def browsing(width: int = 1280, height: int = 800) -> AsyncIterator[Browsing]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        context = await browser.new_context(viewport={"width": width, "height": height})
        session = Browsing(await context.new_page())

        async def only_loopback(route: Any) -> None:
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                await route.continue_()
            else:
                session.refused.append(route.request.url)
                await route.abort()

        await context.route("**/*", only_loopback)
        try:
            yield session
        finally:
            await browser.close()
