"""The room's shared screen, live, and the time cues, in real browsers: facilitator Claire, consultant
Sophie, and the projector opened by Julien (any member may put it on the room's screen).

Elements are found by ids, classes and data attributes; the cue texts are read from the timer's
own data attributes (they belong to the translators)."""
import re
from contextlib import AsyncExitStack

import pytest

try:
    from playwright.async_api import async_playwright, expect
except ImportError:  # the conftest skips (or fails, with CODEV_REQUIRE_BROWSER=1) with the reason
    async_playwright = expect = None

from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.test_live_workshop import LIVE, Member, current_step_is, send_form

pytestmark = pytest.mark.browser

# Every tone room.js makes goes through an oscillator: count them.
COUNT_BEEPS = """
(() => {
  window.__beeps = 0;
  const Context = window.AudioContext;
  if (!Context) return;
  const make = Context.prototype.createOscillator;
  Context.prototype.createOscillator = function () { window.__beeps += 1; return make.call(this); };
})();
"""
BEEPS = "() => window.__beeps"
CONTROLS = "form, button, input, select, textarea"


async def test_the_projector_follows_the_room_and_the_cues_come_once(codev_server, browser_executable, screenshots_dir):
    claire, sophie, julien = Member("claire", None), Member("sophie", None), Member("julien", None)
    expect.set_options(timeout=LIVE)
    async with AsyncExitStack() as stack:
        pw = await stack.enter_async_context(async_playwright())
        browser = await pw.chromium.launch(executable_path=browser_executable, args=CHROMIUM_ARGS)
        stack.push_async_callback(browser.close)
        for m in (claire, sophie, julien):
            m.context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 720})
            await m.context.add_init_script(COUNT_BEEPS)
            m.page = await m.context.new_page()
            m.page.on("pageerror", lambda error, m=m: m.errors.append(str(error)))
            await m.page.goto(codev_server.links[m.username]["url"])
        try:
            await _play(codev_server, claire, sophie, julien, screenshots_dir)
        except BaseException:
            for m in (claire, sophie, julien):
                await m.page.screenshot(path=str(screenshots_dir / f"FAILED-projector-{m.username}.png"), full_page=True)
            print("---- server log ----\n" + codev_server.log_tail())
            raise
        for m in (claire, sophie, julien):
            assert m.errors == [], f"JavaScript errors in {m.username}'s browser: {m.errors}"


async def _play(server, claire, sophie, julien, shots):
    room = server.room_url()
    for m in (claire, sophie):
        await m.page.goto(room)
        await expect(m.page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)
    screen = julien.page
    await screen.goto(f"{room}projector/")
    await expect(screen.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)
    await expect(screen.locator("#projector-title")).not_to_be_empty()
    assert await screen.locator(CONTROLS).count() == 0, "the projector carries a form or a control"

    # The facilitator starts: the projector shows the exposé with its timer, without a reload.
    value = await claire.page.locator("select[name=case_id] option").evaluate_all(
        "(options) => options.find((o) => o.textContent.includes('Reprendre une équipe qui a perdu confiance')).value"
    )
    await send_form(claire, "designate_case", fields={"case_id": value})
    await send_form(claire, "start")
    await expect(screen.locator("#projector-title")).to_have_text(re.compile(r"^1\. "))
    await expect(screen.locator("#case h3")).to_have_text("Reprendre une équipe qui a perdu confiance")
    await expect(screen.locator("#timer")).to_have_text(re.compile(r"^\d\d:\d\d$"))

    # Next step: the projector follows, with the step's rule.
    await send_form(claire, "advance")
    await current_step_is([claire, sophie], 2)
    await expect(screen.locator("#projector-title")).to_have_text(re.compile(r"^2\. "))
    await expect(screen.locator("#projector-rule")).to_be_visible()

    # A consultant asks; the facilitator types a question for Julien, who has no screen of his own.
    question = "Depuis quand l'équipe se tait-elle en réunion ?"
    await send_form(sophie, "ask_question", fields={"body": question})
    items = screen.locator("#projector-items > li")
    await expect(items).to_have_count(1)
    await expect(items.locator(".text")).to_have_text([question])
    julien_id = str(await _user_id(server, "julien"))
    spoken = "Qu'attend précisément la direction pour l'audit ?"
    await send_form(claire, "ask_question", fields={"on_behalf_of": julien_id, "body": spoken})
    await expect(items).to_have_count(2)
    await expect(items.nth(1).locator(".who")).to_contain_text("Julien Petit")
    await expect(items.nth(1).locator(".typed-by")).to_have_count(1)
    await expect(sophie.page.locator("#questions > li").nth(1).locator(".typed-by")).to_have_count(1)
    await expect(items.nth(0).locator(".typed-by")).to_have_count(0)
    assert await screen.locator(CONTROLS).count() == 0

    await screen.screenshot(path=str(shots / "projector-1280.png"), full_page=True)
    await screen.set_viewport_size({"width": 375, "height": 812})
    await screen.screenshot(path=str(shots / "projector-375.png"), full_page=True)
    assert await screen.evaluate("() => document.documentElement.scrollWidth") <= 375, "the projector scrolls sideways at 375 px"
    await screen.set_viewport_size({"width": 1280, "height": 720})
    try:
        from tests.browser.a11y import axe_available, axe_check
    except ImportError:
        axe_available = None
    if axe_available and axe_available():
        await axe_check(screen, "projector")

    # --- the cues: sound on for Claire only; then the step has 8 seconds left ------------------
    toggle = claire.page.locator("#sound-toggle")
    await expect(toggle).to_have_attribute("aria-pressed", "false")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    assert await claire.page.evaluate(BEEPS) == 1, "switching the sound on plays what it will sound like"
    drift = claire.page.locator("#agenda [data-drift]")
    before = await drift.text_content()

    await send_form(claire, "timer", button=("op", "pause"))
    await expect(claire.page.locator("#timer")).to_have_class(re.compile(r"\bpaused\b"))
    # RETURNING: the helper fetches rows, and PostgreSQL has none for a bare UPDATE.
    server.query("UPDATE workshops_workshop SET timer_duration = 70, timer_elapsed = 62 WHERE id = %s RETURNING id", (server.workshop,))
    await send_form(claire, "timer", button=("op", "resume"))

    everyone = (claire.page, sophie.page, screen)
    for page in everyone:  # under a minute left: a warning, seen and announced
        await expect(page.locator("#timer")).to_have_class(re.compile(r"\bwarning\b"))
        await expect(page.locator("#cue")).to_have_text(await page.locator("#timer").get_attribute("data-warning"))
    # The agenda counts the step as it now is (some 40 minutes shorter) without any re-render.
    await expect(drift).not_to_have_text(before)
    await expect(drift).to_have_text(re.compile("−"))
    for page in everyone:  # then the end of the step
        await expect(page.locator("#timer")).to_have_class(re.compile(r"\bovertime\b"), timeout=20_000)
        await expect(page.locator("#cue")).to_have_text(await page.locator("#timer").get_attribute("data-times-up"))
    assert await claire.page.evaluate(BEEPS) == 2, "the end of the step sounds once for whoever switched sound on"
    await claire.page.screenshot(path=str(shots / "projector-room-cues.png"), full_page=True)
    assert await sophie.page.evaluate(BEEPS) == 0, "no sound unless switched on"
    assert await screen.evaluate(BEEPS) == 0

    # Once per run: a reload, a re-render or a reconnection does not cue again.
    await claire.page.reload()
    await expect(claire.page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)
    await expect(claire.page.locator("#timer")).to_have_class(re.compile(r"\bovertime\b"))
    await expect(claire.page.locator("#cue")).to_be_empty()
    assert await claire.page.evaluate(BEEPS) == 0
    await sophie.context.set_offline(True)
    await expect(sophie.page.locator("body")).to_have_attribute("data-connected", "0")
    await sophie.context.set_offline(False)
    await expect(sophie.page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)
    await send_form(sophie, "write_note", fields={"body": "après la reconnexion"})  # the room is live again
    await expect(sophie.page.locator("#timer")).to_have_class(re.compile(r"\bovertime\b"))
    # A restart is a new run: its end will be cued again, but not before its last minute.
    await send_form(claire, "timer", button=("op", "reset"))
    await expect(claire.page.locator("#timer")).not_to_have_class(re.compile(r"\b(overtime|warning)\b"))


async def _user_id(server, username: str) -> int:
    return server.query("SELECT id FROM auth_user WHERE username = %s", (username,))[0][0]
