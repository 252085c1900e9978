"""The Content-Security-Policy in a real browser: Chromium enforces it on every page and in the
live room (room.js, its websocket, fragments placed as they arrive), and nothing is refused —
no `securitypolicyviolation` event, no console error."""
from contextlib import AsyncExitStack

import pytest

try:
    from playwright.async_api import async_playwright, expect
except ImportError:  # the conftest skips (or fails, with CODEV_REQUIRE_BROWSER=1) with the reason
    async_playwright = expect = None

from codev.security import POLICY
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.test_live_workshop import Member, current_step_is, send_form

pytestmark = pytest.mark.browser

# Every violation the page reports, kept across the page's lifetime.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


async def violations(m: Member) -> list[str]:
    return await m.page.evaluate("() => window.__violations")


async def test_the_policy_refuses_nothing_the_app_does(codev_server, browser_executable):
    claire, sophie = Member("claire", None), Member("sophie", None)
    async with AsyncExitStack() as stack:
        pw = await stack.enter_async_context(async_playwright())
        browser = await pw.chromium.launch(executable_path=browser_executable, args=CHROMIUM_ARGS)
        stack.push_async_callback(browser.close)
        for m in (claire, sophie):
            m.context = await browser.new_context(locale="fr-FR")
            await m.context.add_init_script(RECORD_VIOLATIONS)
            m.page = await m.context.new_page()
            m.page.on("pageerror", lambda error, m=m: m.errors.append(f"pageerror: {error}"))
            m.page.on("console", lambda msg, m=m: msg.type == "error" and m.errors.append(f"console: {msg.text}"))
            await m.page.goto(codev_server.links[m.username]["url"])

        # Every page linked from the facilitator's home and group page, as the browser renders it.
        home = await claire.page.goto(f"{codev_server.base_url}/")
        assert home.headers["content-security-policy"] == POLICY
        hrefs = set(await claire.page.eval_on_selector_all("a[href^='/']", "els => els.map(e => e.getAttribute('href'))"))
        await claire.page.locator("a[href^='/groups/']").first.click()
        hrefs |= set(await claire.page.eval_on_selector_all("a[href^='/']", "els => els.map(e => e.getAttribute('href'))"))
        visited = 0
        for href in sorted(hrefs):
            if href.endswith((".pdf", ".md", ".ics", ".json")) or "/signin/" in href:
                continue  # downloads, not pages
            response = await claire.page.goto(codev_server.base_url + href)
            if response.headers.get("content-type", "").startswith("text/html"):
                visited += 1
                assert response.headers.get("content-security-policy") == POLICY, href
                assert await violations(claire) == [], href
        assert visited >= 5, sorted(hrefs)

        # The live room: room.js, its websocket, fragments placed as events arrive.
        for m in (claire, sophie):
            await m.page.goto(codev_server.room_url())
            await expect(m.page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)
        case = await claire.page.locator("select[name=case_id] option").evaluate_all(
            "(options) => options.find((o) => o.textContent.includes('Reprendre une équipe qui a perdu confiance')).value"
        )  # Marc's case: Sophie stays a consultant
        await send_form(claire, "designate_case", fields={"case_id": case})
        await send_form(claire, "start")
        await current_step_is([claire, sophie], 1)
        await send_form(sophie, "write_note", fields={"body": "Une note <b>privée</b>"})
        await send_form(claire, "timer", button=("op", "pause"))
        await send_form(claire, "advance")
        await current_step_is([claire, sophie], 2)
        await send_form(sophie, "ask_question", fields={"body": "Depuis quand <script>window.__pwned=1</script> ?"})
        await expect(claire.page.locator("#room")).to_contain_text("Depuis quand", timeout=5_000)

        for m in (claire, sophie):
            assert await violations(m) == [], f"CSP refused something in {m.username}'s browser"
            assert m.errors == [], f"errors in {m.username}'s browser: {m.errors}"
            assert await m.page.evaluate("() => window.__pwned") is None

        # The policy is really enforced: an injected handler is refused, and reported.
        await sophie.page.evaluate("""() => document.body.insertAdjacentHTML("beforeend", '<img src="/x" onerror="window.__probe=1">')""")
        await sophie.page.wait_for_function("() => window.__violations.length > 0", timeout=5_000)
        assert await sophie.page.evaluate("() => window.__probe") is None
