"""The server restarts in the middle of a workshop: every browser comes back by itself, what was
typed meanwhile is sent once, and what happened after the restart reaches everyone."""
import asyncio
from contextlib import AsyncExitStack

import pytest

try:
    from playwright.async_api import async_playwright, expect
except ImportError:  # the conftest skips (or fails, with CODEV_REQUIRE_BROWSER=1) with the reason
    async_playwright = expect = None

from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.test_live_workshop import COUNT_SOCKETS, OPEN_SOCKETS, Member, current_step_is, send_form

pytestmark = pytest.mark.browser
BACK = 20_000  # ms: reconnecting waits with a backoff of at most 10 s


async def test_browsers_come_back_after_a_server_restart(codev_server, browser_executable):
    claire, sophie = Member("claire", None), Member("sophie", None)
    async with AsyncExitStack() as stack:
        pw = await stack.enter_async_context(async_playwright())
        browser = await pw.chromium.launch(executable_path=browser_executable, args=CHROMIUM_ARGS)
        stack.push_async_callback(browser.close)
        for m in (claire, sophie):
            m.context = await browser.new_context(locale="fr-FR")
            await m.context.add_init_script(COUNT_SOCKETS)
            m.page = await m.context.new_page()
            m.page.on("pageerror", lambda error, m=m: m.errors.append(str(error)))
            await m.page.goto(codev_server.links[m.username]["url"])
            await m.page.goto(codev_server.room_url())
            await expect(m.page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)

        case = await claire.page.locator("select[name=case_id] option:not([disabled])").first.get_attribute("value")
        await send_form(claire, "designate_case", fields={"case_id": case})
        await send_form(claire, "start")
        await current_step_is([claire, sophie], 1)

        await asyncio.to_thread(codev_server.stop)
        for m in (claire, sophie):
            await expect(m.page.locator("body")).to_have_attribute("data-connected", "0", timeout=10_000)
        # Written while the server is down: kept in the outbox, not lost.
        await send_form(sophie, "write_note", fields={"body": "Noté pendant la coupure"}, wait=False)

        await asyncio.to_thread(codev_server.start)
        for m in (claire, sophie):
            await expect(m.page.locator("body")).to_have_attribute("data-connected", "1", timeout=BACK)
        await expect(sophie.page.locator("#notes li")).to_have_count(1, timeout=BACK)
        await expect(sophie.page.locator("#notes")).to_contain_text("Noté pendant la coupure")

        await send_form(claire, "advance")
        await current_step_is([claire, sophie], 2)

        notes = [codev_server.decrypt(body) for (body,) in codev_server.query("SELECT body FROM workshops_privatenote")]
        assert notes.count("Noté pendant la coupure") == 1, "the note typed during the restart is stored exactly once"
        for m in (claire, sophie):
            assert await m.page.evaluate(OPEN_SOCKETS) == 1
            assert m.errors == []
