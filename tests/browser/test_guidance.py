"""The facilitator's guidance in real browsers: his script, open as he left it while the steps go
by, never on a consultant's screen; then his self-assessment, from the ended room to his journal.

Elements are found by ids, names and data attributes, never by visible text (the translators')."""
import re
from contextlib import AsyncExitStack

import pytest

try:
    from playwright.async_api import async_playwright, expect
except ImportError:  # the conftest skips (or fails, with CODEV_REQUIRE_BROWSER=1) with the reason
    async_playwright = expect = None

from tests.browser.a11y import sweep
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.test_live_workshop import LIVE, Member, current_step_is, send_form

pytestmark = pytest.mark.browser

CASE = "Reprendre une équipe qui a perdu confiance"


async def test_the_script_follows_the_facilitator_and_his_self_assessment_lands_in_his_journal(
    codev_server, browser_executable, screenshots_dir
):
    claire, sophie = Member("claire", None), Member("sophie", None)
    expect.set_options(timeout=LIVE)
    async with AsyncExitStack() as stack:
        pw = await stack.enter_async_context(async_playwright())
        browser = await pw.chromium.launch(executable_path=browser_executable, args=CHROMIUM_ARGS)
        stack.push_async_callback(browser.close)
        for m in (claire, sophie):
            m.context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
            m.page = await m.context.new_page()
            m.page.on("pageerror", lambda error, m=m: m.errors.append(str(error)))
            await m.page.goto(codev_server.links[m.username]["url"])
            await m.page.goto(codev_server.room_url())
            await expect(m.page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)
        try:
            await _play(claire, sophie, screenshots_dir)
        except BaseException:
            await claire.page.screenshot(path=str(screenshots_dir / "guidance-FAILED.png"), full_page=True)
            print("---- server log ----\n" + codev_server.log_tail())
            raise
        assert claire.errors == [] and sophie.errors == [], (claire.errors, sophie.errors)


async def _play(claire: Member, sophie: Member, shots):
    script = claire.page.locator("#script")
    # The opening: his script is there, folded; the consultant has none.
    await expect(script).to_have_count(1)
    await expect(script).not_to_have_attribute("open", "")
    await expect(sophie.page.locator("#script")).to_have_count(0)
    opening = await script.text_content()

    await script.locator("summary").click()
    await expect(script).to_have_attribute("open", "")
    value = await claire.page.locator("select[name=case_id] option").evaluate_all(
        f"(options) => options.find((o) => o.textContent.includes({CASE!r})).value"
    )
    await send_form(claire, "designate_case", fields={"case_id": value})
    await send_form(claire, "start")
    await current_step_is([claire, sophie], 1)
    # The room was rendered anew for the exposé: the script is the step's, still open.
    await expect(script).to_have_attribute("open", "")
    await expect(script).not_to_have_text(opening)
    await expect(sophie.page.locator("#script")).to_have_count(0)
    await claire.page.screenshot(path=str(shots / "guidance-script-facilitator.png"), full_page=True)
    await sweep(claire.page, "guidance-script-open")  # axe, and 375 px without sideways scrolling
    await claire.page.set_viewport_size({"width": 375, "height": 800})
    await script.screenshot(path=str(shots / "guidance-script-375.png"))
    await claire.page.set_viewport_size({"width": 1280, "height": 900})

    for step in range(1, 6):
        before = await script.text_content()
        reason = {"override_reason": "Sophie accepte oralement"} if step == 3 else {}  # the contract
        await send_form(claire, "advance", fields=reason)
        await current_step_is([claire, sophie], step + 1)
        await expect(script).not_to_have_text(before)
        await expect(sophie.page.locator("#script")).to_have_count(0)

    claire.page.once("dialog", lambda dialog: dialog.accept())
    await send_form(claire, "end")
    await expect(claire.page.locator(".room-meta")).to_have_attribute("data-status", "ended")
    await expect(script).to_have_count(0)
    await expect(sophie.page.locator("#self-assessment-link")).to_have_count(0)

    # The self-assessment: a point left unanswered is refused, and what he chose and wrote stays.
    await claire.page.locator("#self-assessment-link a").click()
    form = claire.page.locator("form.self-assessment")
    fieldsets = form.locator("fieldset")
    count = await fieldsets.count()
    assert count >= 8
    for index in range(count - 1):
        await fieldsets.nth(index).locator("input[value=yes]").check()
    await form.locator("textarea[name=comment]").fill("Laisser plus de silence après les questions.")
    await form.evaluate("f => f.noValidate = true")  # the server's check, as without the browser's
    await form.locator("button[type=submit]").click()
    await expect(claire.page.locator("#assessment-error")).to_be_visible()
    await expect(form.locator("textarea[name=comment]")).to_have_value("Laisser plus de silence après les questions.")
    await expect(form.locator("input[value=yes]:checked")).to_have_count(count - 1)
    await sweep(claire.page, "guidance-self-assessment-refused")
    await claire.page.set_viewport_size({"width": 375, "height": 800})
    await claire.page.screenshot(path=str(shots / "guidance-self-assessment-375.png"), full_page=True)
    await claire.page.set_viewport_size({"width": 1280, "height": 900})

    await form.locator("fieldset.missing input[value=partly]").check()
    await form.locator("button[type=submit]").click()
    await expect(claire.page).to_have_url(re.compile(r"/journal/#entry-\d+$"))
    entry = claire.page.locator("article.journal-part").filter(has_text="Laisser plus de silence")
    await expect(entry).to_have_count(1)
    await claire.page.screenshot(path=str(shots / "guidance-journal.png"), full_page=True)
