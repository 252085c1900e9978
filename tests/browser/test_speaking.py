"""Speaking turns in real browsers: hands raised in two consultants' browsers queue in order in
everyone's room, the facilitator gives the floor from the queue, and the speaking clock works on a
phone-sized screen (375 px), live for everyone.

Elements are found by ids, data attributes and data-type, never by visible text."""
import asyncio
from contextlib import AsyncExitStack

import pytest

try:
    from playwright.async_api import async_playwright, expect
except ImportError:  # the conftest skips (or fails, with CODEV_REQUIRE_BROWSER=1) with the reason
    async_playwright = expect = None

from tests.browser.conftest import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

LIVE = 5_000  # ms: what "live" means here


async def click_form(page, kind: str, scope=None, user_id=None):
    """Submit the speaking form `kind` (for `user_id` when given) and wait for the server's answer."""
    root = scope if scope is not None else page.locator("#room")
    form = root.locator(f'form.act[data-type="{kind}"]')
    if user_id is not None:
        form = form.filter(has=page.locator(f'input[name="user_id"][value="{user_id}"]'))
    await form.locator("button[type=submit]").first.click()
    await expect(page.locator(f'form.act.pending[data-type="{kind}"]')).to_have_count(0, timeout=LIVE)
    assert not await page.locator("#toast").is_visible(), await page.locator("#toast").text_content()


async def queue_of(page) -> list[str]:
    return await page.locator("#hand-queue li[data-user]").evaluate_all("(items) => items.map((li) => li.dataset.user)")


async def test_the_hand_queue_and_the_speaking_clock(codev_server, browser_executable, screenshots_dir):
    ids = {name: str(codev_server.query("SELECT id FROM auth_user WHERE username = %s", (name,))[0][0])
           for name in ("claire", "marc", "sophie", "julien")}
    async with AsyncExitStack() as stack:
        pw = await stack.enter_async_context(async_playwright())
        browser = await pw.chromium.launch(executable_path=browser_executable, args=CHROMIUM_ARGS)
        stack.push_async_callback(browser.close)
        errors = []

        async def arrive(name, width=1280):
            context = await browser.new_context(locale="en-GB", viewport={"width": width, "height": 900})
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(f"{name}: {error}"))
            await page.goto(codev_server.links[name]["url"])
            await page.goto(codev_server.room_url())
            await expect(page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)
            return page

        claire, sophie, julien = await asyncio.gather(arrive("claire"), arrive("sophie"), arrive("julien", 800))
        expect.set_options(timeout=LIVE)
        try:
            await play(claire, sophie, julien, ids, codev_server, screenshots_dir)
        except BaseException:
            for name, page in (("claire", claire), ("sophie", sophie), ("julien", julien)):
                await page.screenshot(path=str(screenshots_dir / f"FAILED-speaking-{name}.png"), full_page=True)
            print("---- server log ----\n" + codev_server.log_tail())
            raise
        assert errors == [], errors


async def play(claire, sophie, julien, ids, codev_server, shots):
    everyone = (claire, sophie, julien)
    # The facilitator chooses the case and starts: the speaking card appears for everyone.
    marcs = codev_server.query("SELECT id FROM workshops_case WHERE owner_id = %s AND status = 'pool' ORDER BY id", (int(ids["marc"]),))
    await claire.locator('form.act[data-type="designate_case"] select[name=case_id]').select_option(str(marcs[0][0]))
    await click_form(claire, "designate_case")
    await click_form(claire, "start")
    for page in everyone:
        await expect(page.locator("#speaking")).to_be_visible()
        await expect(page.locator("#hand-queue li[data-user]")).to_have_count(0)
    await expect(sophie.locator("#speaking-balance")).to_have_count(0)  # the figures are the facilitator's
    await expect(claire.locator("#speaking-balance")).to_be_visible()

    # Two hands, in the order they were raised, in every browser.
    await click_form(sophie, "raise_hand")
    await expect(julien.locator("#hand-queue li[data-user]")).to_have_count(1)
    await click_form(julien, "raise_hand")
    for page in everyone:
        await expect(page.locator("#hand-queue li[data-user]")).to_have_count(2)
        assert await queue_of(page) == [ids["sophie"], ids["julien"]]
    # Neither has spoken yet: the proposal is the earliest hand.
    await expect(claire.locator("#proposed-next [data-user]")).to_have_attribute("data-user", ids["sophie"])
    await claire.screenshot(path=str(shots / "speaking-queue-facilitator.png"), full_page=True)

    # The facilitator gives Sophie the floor: her hand is answered, everyone sees her speak.
    await click_form(claire, "give_floor", scope=claire.locator("#hand-queue"), user_id=ids["sophie"])
    for page in everyone:
        await expect(page.locator("#speaker .speaker-name")).to_have_attribute("data-user", ids["sophie"])
        await expect(page.locator("#hand-queue li[data-user]")).to_have_count(1)
    await expect(sophie.locator('form.act[data-type="speak"] button[aria-pressed="true"]')).to_have_count(1)
    ticking = julien.locator("#speaker .ticking")
    before = await ticking.text_content()
    await expect(ticking).not_to_have_text(before, timeout=3_000)  # her time runs, by itself
    # Julien changes his mind and lowers his hand.
    await click_form(julien, "lower_hand")
    for page in everyone:
        await expect(page.locator("#hand-queue li[data-user]")).to_have_count(0)
    await expect(claire.locator(f'#speaking-balance tr[data-user="{ids["sophie"]}"]')).to_have_count(1)

    # --- the speaking clock, on the facilitator's phone ---------------------------------------
    phone = await claire.context.new_page()
    await phone.set_viewport_size({"width": 375, "height": 812})
    await phone.goto(f"{codev_server.base_url}/workshops/{codev_server.workshop}/clock/")
    await expect(phone.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)
    buttons = phone.locator("#speaking-clock .clock-button[data-user]")
    assert await buttons.count() >= 3
    assert ids["claire"] not in await buttons.evaluate_all("(b) => b.map((x) => x.dataset.user)")  # he never speaks
    await expect(phone.locator(f'.clock-button[data-user="{ids["sophie"]}"]')).to_have_attribute("aria-pressed", "true")
    box = await phone.locator(f'.clock-button[data-user="{ids["julien"]}"]').bounding_box()
    assert box["height"] >= 44 and box["width"] >= 120, box  # a thumb's target
    assert await phone.evaluate("() => document.documentElement.scrollWidth") <= 375  # no sideways scrolling

    # Tap Julien: he speaks, for everyone; Sophie's turn ends.
    await phone.locator(f'.clock-button[data-user="{ids["julien"]}"]').click()
    await expect(phone.locator(f'.clock-button[data-user="{ids["julien"]}"]')).to_have_attribute("aria-pressed", "true")
    await expect(phone.locator(f'.clock-button[data-user="{ids["sophie"]}"]')).to_have_attribute("aria-pressed", "false")
    for page in everyone:
        await expect(page.locator("#speaker .speaker-name")).to_have_attribute("data-user", ids["julien"])
    await expect(sophie.locator('form.act[data-type="speak"] button[aria-pressed="false"]')).to_have_count(1)
    await phone.screenshot(path=str(shots / "speaking-clock-375.png"), full_page=True)
    try:
        from tests.browser.a11y import axe_available, axe_check
    except ImportError:  # the accessibility helper is not there: nothing to run
        axe_available = None
    if axe_available and axe_available():
        await axe_check(phone, "speaking-clock")

    # Tap him again: nobody speaks.
    await phone.locator(f'.clock-button[data-user="{ids["julien"]}"]').click()
    await expect(phone.locator(".clock-button.nobody")).to_have_attribute("aria-pressed", "true")
    for page in everyone:
        await expect(page.locator("#speaker .speaker-name")).to_have_count(0)
    # The facilitator's table in the room counted Sophie's turn (it ran while her time ticked).
    await expect(claire.locator(f'#speaking-balance tr[data-user="{ids["sophie"]}"] td').first).not_to_have_text("0:00")
