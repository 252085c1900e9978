"""Every page of a workshop, for every role, through axe-core and at 375 px wide.

The seeded demo is played from the opening (follow-up of earlier plans, the vote) through the six
steps to the end, with content at each step so that every form and list is on screen; at each
state the facilitator's, the client's and a consultant's pages are checked at once: no serious or
critical WCAG 2.x A/AA violation (tests/browser/a11y.py), and no horizontal scrolling on a 375 px
screen (screenshots: test-artifacts/screenshots/a11y-375-*.png; axe results: test-artifacts/axe/).
"""
import re

import pytest
from django.urls import NoReverseMatch, reverse

try:
    from playwright.async_api import expect
except ImportError:  # the conftest skips (or fails, with CODEV_REQUIRE_BROWSER=1) with the reason
    expect = None

from tests.browser.a11y import SCREENSHOTS, in_the_room, require_axe, sweep
from tests.browser.test_live_workshop import LIVE, Member, current_step_is, each, send_form

pytestmark = pytest.mark.browser

ADVICE = "Avez-vous pensé à déléguer le planning à un des anciens ?"
# Pages other parts of the app add to a workshop, checked when their URL exists.
OPTIONAL_ROOM_PAGES = ("workshop_projector", "workshop_clock", "workshop_self_assessment")


@pytest.fixture
def a11y_shots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("a11y-375-*.png"):
        old.unlink()
    return SCREENSHOTS


async def sweep_all(members, state: str):
    """The same state seen by several people, checked in their browsers at once."""
    await each(members, lambda m: sweep(m.page, f"{state}-{m.shot}"))


async def test_every_page_of_a_workshop_is_accessible_and_fits_a_phone(codev_server, browser_executable, a11y_shots):
    require_axe()
    claire, marc, sophie = Member("claire", "facilitator"), Member("marc", "client"), Member("sophie", "consultant")
    nadia = Member("nadia", "previous-client")  # her plan of an earlier session is followed up at the opening
    everyone = [claire, marc, sophie, nadia]

    async with in_the_room(codev_server, browser_executable, everyone) as browser:
        await play(claire, marc, sophie, nadia, browser, codev_server)


async def play(claire, marc, sophie, nadia, browser, server):
    expect.set_options(timeout=LIVE)
    trio = [claire, marc, sophie]

    # --- the opening: follow-up of earlier plans, the pool and the vote ------------------------
    await expect(nadia.page.locator('form.act[data-type="report_followup"]').first).to_be_visible()
    await expect(sophie.page.locator('form.act[data-type="vote"]')).to_be_visible()
    await sweep_all([claire, sophie, nadia], "0-opening")
    await nadia.context.close()

    case = await claire.page.locator("select[name=case_id] option").evaluate_all(
        "(options) => options.find((o) => o.textContent.includes('Reprendre une équipe qui a perdu confiance')).value"
    )
    await send_form(claire, "designate_case", fields={"case_id": case})
    await expect(marc.page.locator(".room-meta")).to_have_attribute("data-role", "client")
    await send_form(claire, "start")
    await current_step_is(trio, 1)

    # --- 1. exposé: the client's case form, a private note ------------------------------------
    await send_form(sophie, "write_note", fields={"body": "Les deux anciens : à creuser."})
    await expect(marc.page.locator('form.act[data-type="edit_case"]')).to_be_visible()
    await sweep_all(trio, "1-expose")

    # --- 2. clarification: a question and its answer form; a disguised advice and its hint -------
    await advance(claire, trio, 2)
    await send_form(sophie, "ask_question", fields={"body": "Depuis quand l'équipe se tait-elle en réunion ?"})
    await expect(marc.page.locator('form.act[data-type="answer_question"]')).to_have_count(1)
    await send_form(sophie, "ask_question", fields={"body": ADVICE}, wait=False)
    await expect(sophie.page.locator('form.act.hinted[data-type="ask_question"] .anyway')).to_be_visible()
    await sweep_all(trio, "2-clarification")

    # --- 3. contract: the request form, the rules to accept -------------------------------------
    await advance(claire, trio, 3)
    await send_form(marc, "write_request", fields={"request": "Aidez-moi à rétablir le dialogue."}, check=[("help_kinds", "ideas")])
    await expect(sophie.page.locator('form.act[data-type="accept_rules"]')).to_be_visible()
    await sweep_all(trio, "3-contrat")
    for m in (marc, sophie):
        await send_form(m, "accept_rules")

    # --- 4. consultation: contributions, the client's marks ------------------------------------
    await advance(claire, trio, 4)
    await send_form(sophie, "contribute", fields={"kind": "idea", "body": "Un tour de table le lundi."})
    await send_form(sophie, "contribute", fields={"kind": "experience", "body": "J'ai vécu la même chose."})
    kept = marc.page.locator("#contributions > li.kind-idea")
    await expect(kept).to_have_count(1)
    await send_form(marc, "mark_contribution", button=("mark", "keep"), scope=kept)
    await expect(sophie.page.locator("#contributions > li.marked-keep")).to_have_count(1)
    await sweep_all(trio, "4-consultation")

    # --- 5. action plan: the form with the kept contribution, an action --------------------------
    await advance(claire, trio, 5)
    await send_form(marc, "add_action", fields={"what": "Un tour de table chaque lundi.", "due": "2026-12-15"})
    await expect(sophie.page.locator("#actions > li")).to_have_count(1)
    await sweep_all(trio, "5-plan")

    # --- 6. learning: the learning and evaluation forms -------------------------------------------
    await advance(claire, trio, 6)
    await send_form(sophie, "write_learning", fields={"body": "Le silence travaille."})
    await send_form(sophie, "evaluate", check=[("score", "4")])
    await expect(claire.page.locator("#learnings > li")).to_have_count(1)
    await sweep_all(trio, "6-apprentissage")

    # Pages other parts of the app add to the live workshop (projector, speaking clock).
    for name in OPTIONAL_ROOM_PAGES:
        await optional_page(claire, server, name, "live")

    async def confirm(dialog):
        await dialog.accept()

    claire.page.once("dialog", confirm)
    await send_form(claire, "end")
    await each(trio, lambda m: expect(m.page.locator(".room-meta")).to_have_attribute("data-status", "ended"))
    await sweep_all(trio, "7-ended")
    for name in OPTIONAL_ROOM_PAGES:
        await optional_page(claire, server, name, "ended")

    # --- the pages around the room -------------------------------------------------------------
    group_href = await claire.page.locator('.room-head a[href^="/groups/"]').first.get_attribute("href")
    session_href = await claire.page.locator('.room-head a[href^="/sessions/"]').first.get_attribute("href")
    for m, path, name in [
        (claire, "/", "home-facilitator"),
        (claire, group_href, "group-facilitator"),
        (sophie, group_href, "group-consultant"),
        (claire, session_href, "session-facilitator"),
        (sophie, session_href, "session-consultant"),
        (marc, "/journal/", "journal-client"),
        (sophie, "/journal/", "journal-consultant"),
        (marc, "/me/data/", "my-data"),
        (marc, "/me/records/", "client-records"),
        (claire, f"{group_href}evaluations/", "group-evaluations"),
    ]:
        await m.page.goto(server.base_url + path)
        await sweep(m.page, name)

    anonymous = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = await anonymous.new_page()
    await page.goto(server.base_url + "/login/")
    await expect(page.locator("input[type=password]")).to_have_count(1)
    await sweep(page, "login")
    await anonymous.close()


async def advance(claire, members, step: int):
    await send_form(claire, "advance")
    await current_step_is(members, step)


async def optional_page(m: Member, server, url_name: str, state: str):
    try:
        path = reverse(url_name, args=[server.workshop])
    except NoReverseMatch:
        print(f"{url_name}: no such page yet, not checked")
        return
    response = await m.page.goto(server.base_url + path)
    assert response.ok, f"{url_name} answers {response.status}"
    await sweep(m.page, f"{re.sub('^workshop_', '', url_name)}-{state}")
    await m.page.goto(server.room_url())
    await expect(m.page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)
