"""One full cycle in miniature, in real browsers: a facilitator creates a group, invites two guests
who join by the e-mailed link without a password, plans a short two-session cycle; the guests bring
cases, vote at the opening of session 1 while the facilitator watches the tally live, a short
workshop is played through its six steps, and at the opening of session 2 the client reports on her
action, which the group sees live.

Everything is done by clicking and typing. Elements are found by ids, names, data-type, roles and
URLs — never by visible text, which belongs to the translators (user data such as names and case
titles may be matched). The invitation links are read from the server's log, where Django's console
e-mail backend prints every message.
"""
import asyncio
import email
import re
from contextlib import AsyncExitStack
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

try:
    from playwright.async_api import async_playwright, expect
except ImportError:  # the conftest skips (or fails, with CODEV_REQUIRE_BROWSER=1) with the reason
    async_playwright = expect = None

from tests.browser.conftest import CHROMIUM_ARGS, SCREENSHOTS
from tests.browser.test_live_workshop import LIVE, Member, current_step_is, each, send_form
from workshops.steps import STEPS, Step

pytestmark = pytest.mark.browser

NAVIGATION = 15_000  # ms: a page load, on a busy two-core machine

GROUP = "Groupe Cycle Miniature"
CYCLE = "Cycle de printemps"
GUESTS = {
    "anna": ("anna.dupont@example.org", "Anna", "Dupont"),
    "bruno": ("bruno.martin@example.org", "Bruno", "Martin"),
}
ANNA_CASE = "Animer une équipe répartie sur trois sites"
BRUNO_CASE = "Préparer un entretien annuel difficile"
ACTION = "Organiser une visio hebdomadaire de vingt minutes avec les trois sites."
FOLLOWUP_COMMENT = "Trois visios tenues, l'équipe de Lille participe enfin."

# A page's marker, set once: still there later means the page was never reloaded.
MARK = "() => { window.__sameDocument = true; }"
SAME_DOCUMENT = "() => window.__sameDocument === true"


@pytest.fixture
def cycle_shots() -> Path:
    """The screenshots folder, cleared of this test's own earlier screenshots only."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("cycle-*.png"):
        old.unlink()
    return SCREENSHOTS


async def shoot(m: Member, shots: Path, name: str):
    await m.page.screenshot(path=str(shots / f"cycle-{name}.png"), full_page=True)


def join_links(log: bytes) -> dict:
    """{address: join link} for every e-mail the console backend printed in the server log.
    Parsed as bytes: a French body is 8-bit UTF-8, which a str parser would mangle."""
    links = {}
    for chunk in re.split(rb"^-{79}$", log, flags=re.M):
        start = chunk.find(b"Content-Type:")
        if start < 0:
            continue
        message = email.message_from_bytes(chunk[start:].lstrip())
        if message.is_multipart():
            parts = [p for p in message.walk() if p.get_content_type() == "text/plain"]
        else:
            parts = [message]
        body = "".join(p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8") for p in parts)
        found = re.search(r"https?://\S+/join/[^/\s]+/", body)
        if found and message["To"]:
            links[message["To"].strip().lower()] = found[0]
    return links


async def wait_for_join_links(server, addresses, timeout=LIVE / 1000) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        links = join_links(server.log_path.read_bytes())
        if all(a in links for a in addresses):
            return {a: links[a] for a in addresses}
        if loop.time() > deadline:
            raise AssertionError(f"no join link for {set(addresses) - set(links)} in the server log:\n{server.log_tail()}")
        await asyncio.sleep(0.1)


async def test_one_full_cycle_in_miniature(codev_server, browser_executable, cycle_shots):
    claire = Member("claire", "facilitator")
    anna = Member("anna", "client")
    bruno = Member("bruno", "consultant")
    everyone = [claire, anna, bruno]

    async with AsyncExitStack() as stack:
        pw = await stack.enter_async_context(async_playwright())
        browser = await pw.chromium.launch(executable_path=browser_executable, args=CHROMIUM_ARGS)
        stack.push_async_callback(browser.close)

        async def open_browser(m: Member):
            """A fresh browser context: no cookie, no storage, nothing shared with the others."""
            m.context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
            m.context.set_default_timeout(LIVE)
            m.context.set_default_navigation_timeout(NAVIGATION)
            m.page = await m.context.new_page()
            m.page.on("pageerror", lambda error, m=m: m.errors.append(f"pageerror: {error}"))
            m.page.on("console", lambda msg, m=m: msg.type == "error" and m.errors.append(f"console: {msg.text}"))

        try:
            await play(claire, anna, bruno, open_browser, cycle_shots, codev_server)
        except BaseException:
            for m in everyone:
                if m.page is not None:
                    try:
                        await m.page.screenshot(path=str(cycle_shots / f"cycle-FAILED-{m.username}.png"), full_page=True)
                    except Exception as error:  # the original failure matters more
                        print(f"no failure screenshot for {m.username}: {error}")
            print("---- server log ----\n" + codev_server.log_tail())
            raise

        for m in everyone:
            assert m.errors == [], f"errors in {m.username}'s browser: {m.errors}"


async def play(claire, anna, bruno, open_browser, shots, server):
    everyone = [claire, anna, bruno]
    guests = [anna, bruno]
    expect.set_options(timeout=LIVE)
    base = server.base_url

    # --- 1. Claire signs in and creates a group from the home page ------------------------------
    await open_browser(claire)
    await claire.page.goto(server.links["claire"]["url"])  # the single-use sign-in link
    await claire.page.goto(base + "/")
    await claire.page.locator('.page a[href="/groups/new/"]').click()
    await expect(claire.page).to_have_url(f"{base}/groups/new/")
    create = claire.page.locator("form:has(input[name=name])")
    await create.locator("input[name=name]").fill(GROUP)
    await create.locator("button[type=submit]").click()
    await expect(claire.page).to_have_url(re.compile(rf"^{re.escape(base)}/groups/\d+/(#members)?$"))
    group_id = int(re.search(r"/groups/(\d+)/", claire.page.url)[1])
    group_url = f"{base}/groups/{group_id}/"
    await expect(claire.page.locator("h1")).to_have_text(GROUP)
    await expect(claire.page.locator("#members > ul.list > li")).to_have_count(1)  # herself

    # --- 2. She invites two guests; each joins by the e-mailed link, without a password ---------
    addresses = [GUESTS[m.username][0] for m in guests]
    await claire.page.locator("#invite textarea[name=emails]").fill("\n".join(addresses))
    await claire.page.locator("#invite button[type=submit]").click()
    await expect(claire.page.locator("ul.messages li.success")).to_have_count(1)
    for address in addresses:
        await expect(claire.page.locator("#members")).to_contain_text(address)  # pending
    links = await wait_for_join_links(server, addresses)

    async def join(m: Member):
        address, first, last = GUESTS[m.username]
        await open_browser(m)
        await m.page.goto(links[address])
        form = m.page.locator("form:has(input[name=first_name])")
        await expect(form).to_have_count(1)
        await expect(m.page.locator("input[type=password]")).to_have_count(0)
        if m is anna:
            await shoot(m, shots, "02-join")
        await form.locator("input[name=first_name]").fill(first)
        await form.locator("input[name=last_name]").fill(last)
        await form.locator("button[type=submit]").click()
        await expect(m.page).to_have_url(re.compile(rf"^{re.escape(group_url)}(#members)?$"))
        await expect(m.page.locator(".topbar .me")).to_have_text(f"{first} {last}")
        await expect(m.page.locator("#members")).to_contain_text(f"{first} {last}")
        await expect(m.page.locator("#invite")).to_have_count(0)  # a member, not the facilitator
        await expect(m.page.locator("ul.messages li.success")).to_have_count(1)

    await asyncio.gather(*(join(m) for m in guests))
    # The link was single-use: it no longer signs anyone in.
    used = await anna.context.request.get(links[addresses[0]])
    assert used.status in (404, 410), f"a used join link answers {used.status}"

    await claire.page.reload()
    members = claire.page.locator("#members > ul.list > li")
    await expect(members).to_have_count(3)
    for m in guests:
        _address, first, last = GUESTS[m.username]
        await expect(members.filter(has_text=f"{first} {last}")).to_have_count(1)
        await expect(claire.page.locator("#members")).not_to_contain_text(GUESTS[m.username][0])  # no longer pending
    await shoot(claire, shots, "01-group-facilitator")

    # --- 3. Claire plans a cycle of 2 sessions in the short format -------------------------------
    await claire.page.locator(f'#sessions a[href="/groups/{group_id}/cycles/new/"]').click()
    await expect(claire.page).to_have_url(f"{base}/groups/{group_id}/cycles/new/")
    plan = claire.page.locator("form:has(input[name=title])")
    first_session = (datetime.now() + timedelta(days=1)).replace(hour=18, minute=30)
    await plan.locator("input[name=title]").fill(CYCLE)
    await plan.locator("input[name=starts_at]").fill(first_session.strftime("%Y-%m-%dT%H:%M"))
    await plan.locator("select[name=rhythm]").select_option("weekly")
    await plan.locator("input[name=count]").fill("2")
    await plan.locator('input[name=format][value="short"]').check()
    await plan.locator("button[type=submit]").click()
    await expect(claire.page).to_have_url(group_url)
    rows = claire.page.locator("#sessions table.sessions tbody tr")
    await expect(rows).to_have_count(2)
    assert server.query(
        "SELECT s.number, s.format FROM workshops_session s JOIN workshops_cycle c ON c.id = s.cycle_id "
        "WHERE s.group_id = %s AND c.title = %s ORDER BY s.number", (group_id, CYCLE)
    ) == [(1, "short"), (2, "short")]
    session_ids = [int(re.search(r"/sessions/(\d+)/", await row.locator('a[href^="/sessions/"]').first.get_attribute("href"))[1])
                   for row in await rows.all()]
    room_ids = [int(re.search(r"/workshops/(\d+)/", await row.locator('a[href^="/workshops/"]').first.get_attribute("href"))[1])
                for row in await rows.all()]

    # --- 4. Anna and Bruno each bring a case to the pool from the group page ----------------------
    async def bring_case(m: Member, title: str, summary: str):
        await m.page.goto(group_url)
        form = m.page.locator(f'form[action="/groups/{group_id}/cases/"]')
        await m.page.locator(f'details:has(form[action="/groups/{group_id}/cases/"]) > summary').click()
        await form.locator("input[name=title]").fill(title)
        await form.locator("textarea[name=summary]").fill(summary)
        await form.locator("textarea[name=stakes]").fill("La cohésion de l'équipe.")
        await form.locator("button[type=submit]").click()
        await expect(m.page).to_have_url(group_url)
        await expect(m.page.locator("ul.messages li.success")).to_have_count(1)
        await expect(m.page.locator("section[aria-labelledby=pool-title] li.item.case", has_text=title)).to_have_count(1)

    await bring_case(anna, ANNA_CASE, "Trois sites, trois cultures, et des réunions où personne ne parle.")
    await bring_case(bruno, BRUNO_CASE, "Un collaborateur conteste chaque objectif.")
    await expect(claire.page.locator('form[action$="/cases/"]')).to_have_count(0)  # the facilitator brings no case

    # --- 5. Everyone opens the room of session 1: the opening, the vote, the live tally -----------
    room_1 = f"{base}/workshops/{room_ids[0]}/"

    async def enter_session_1(m: Member):
        if m is claire:  # through the session page
            await m.page.goto(group_url)
            await m.page.locator(f'#sessions a[href="/sessions/{session_ids[0]}/"]').click()
            await expect(m.page).to_have_url(f"{base}/sessions/{session_ids[0]}/")
            await m.page.locator(f'a[href="/workshops/{room_ids[0]}/"]').click()
        else:  # straight from the group page
            await m.page.locator(f'#sessions a[href="/workshops/{room_ids[0]}/"]').click()
        await expect(m.page).to_have_url(room_1)
        await expect(m.page.locator("#room")).to_have_attribute("data-workshop", str(room_ids[0]))
        await expect(m.page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)
        await m.page.evaluate(MARK)

    await each(everyone, enter_session_1)
    await each(everyone, lambda m: expect(m.page.locator("#presence .people li[data-user]")).to_have_count(3))

    pool_items = claire.page.locator("#pool li.item.case")
    await expect(pool_items).to_have_count(2)
    anna_case = int((await pool_items.filter(has_text=ANNA_CASE).get_attribute("id")).split("-")[1])
    bruno_case = int((await pool_items.filter(has_text=BRUNO_CASE).get_attribute("id")).split("-")[1])

    async def opening_shown(m: Member):
        await expect(m.page.locator(".room-meta")).to_have_attribute("data-status", "planned")
        await expect(m.page.locator("#followup")).to_be_visible()
        await expect(m.page.locator("#followup article.plan")).to_have_count(0)  # nothing to follow up yet
        await expect(m.page.locator("#pool li.item.case")).to_have_count(2)

    await each(everyone, opening_shown)
    tally = claire.page.locator("table.tally")

    async def tally_is(votes: dict):
        for title, count in votes.items():
            row = tally.locator("tbody tr", has_text=title)
            await expect(row).to_have_count(1)
            await expect(row.locator("td.num")).to_have_text(str(count))

    await tally_is({ANNA_CASE: 0, BRUNO_CASE: 0})
    await expect(claire.page.locator('form.act[data-type="vote"]')).to_have_count(0)  # the facilitator does not vote
    for m in guests:
        await expect(m.page.locator("table.tally")).to_have_count(0)
        await expect(m.page.locator('form.act[data-type="vote"] select[name=votes]')).to_have_count(3)
        await expect(m.page.locator('form.act[data-type="designate_case"]')).to_have_count(0)

    async def vote(m: Member, choices: list):
        form = m.page.locator('#room form.act[data-type="vote"]')
        selects = form.locator("select[name=votes]")
        for index, case_id in enumerate(choices):
            await selects.nth(index).select_option(str(case_id))
        await send_form(m, "vote")

    await vote(anna, [anna_case, bruno_case])
    await tally_is({ANNA_CASE: 1, BRUNO_CASE: 1})  # live, for the facilitator
    await vote(bruno, [anna_case, anna_case, bruno_case])
    await tally_is({ANNA_CASE: 3, BRUNO_CASE: 2})
    await expect(tally.locator("tbody tr").first).to_contain_text(ANNA_CASE)  # most voted first
    for m in guests:
        await expect(m.page.locator("table.tally")).to_have_count(0)  # still never theirs
    # Each voter's choices are kept in his form when the room re-renders.
    await expect(bruno.page.locator('form.act[data-type="vote"] select[name=votes]').nth(1)).to_have_value(str(anna_case))
    await shoot(claire, shots, "03-opening-tally-facilitator")
    await shoot(bruno, shots, "03-opening-member")

    await send_form(claire, "designate_case", fields={"case_id": str(anna_case)})
    await expect(anna.page.locator(".room-meta")).to_have_attribute("data-role", "client")
    await expect(bruno.page.locator(".room-meta")).to_have_attribute("data-role", "consultant")
    await send_form(claire, "start")
    await current_step_is(everyone, 1)
    short_exposé = STEPS[Step.EXPOSE].short_minutes * 60

    async def short_timer(m: Member):
        await expect(m.page.locator("#timer")).to_have_attribute("data-duration", re.compile(rf"^{short_exposé}(\.0+)?$"))
        await expect(m.page.locator("#followup")).to_have_count(0)  # the opening is over

    await each(everyone, short_timer)

    # --- 6. A short workshop, step by step -----------------------------------------------------------
    await send_form(claire, "advance")
    await current_step_is(everyone, 2)
    question = "Qu'est-ce qui a déjà marché sur un des trois sites ?"
    await send_form(bruno, "ask_question", fields={"body": question})
    await each(everyone, lambda m: expect(m.page.locator("#questions > li .text").first).to_have_text(question))

    await send_form(claire, "advance")
    await current_step_is(everyone, 3)
    for count, m in enumerate(guests, start=1):
        await send_form(m, "accept_rules")
        await each(everyone, lambda viewer, count=count: expect(viewer.page.locator("#acceptances li")).to_have_count(count))

    await send_form(claire, "advance")
    await current_step_is(everyone, 4)
    idea = "Idée : faire tourner l'animation de la réunion entre les trois sites."
    await send_form(bruno, "contribute", fields={"kind": "idea", "body": idea})
    await each(everyone, lambda m: expect(m.page.locator("#contributions > li .text")).to_have_text([idea]))

    await send_form(claire, "advance")
    await current_step_is(everyone, 5)
    due = (date.today() + timedelta(days=30)).isoformat()
    await send_form(anna, "add_action", fields={"what": ACTION, "first_step": "Envoyer l'invitation lundi.", "due": due})
    await each(everyone, lambda m: expect(m.page.locator("#actions > li strong")).to_have_text([ACTION]))

    await send_form(claire, "advance")
    await current_step_is(everyone, 6)
    dialogs = []

    async def on_dialog(dialog):
        dialogs.append(dialog.type)
        await dialog.accept()

    claire.page.once("dialog", on_dialog)
    await send_form(claire, "end")
    assert dialogs == ["confirm"]
    await each(everyone, lambda m: expect(m.page.locator(".room-meta")).to_have_attribute("data-status", "ended"))
    for m in everyone:
        assert await m.page.evaluate(SAME_DOCUMENT), f"{m.username}'s room of session 1 was reloaded"

    # The session page: the three in the room are marked present, the facilitator sees the roster.
    await claire.page.goto(f"{base}/sessions/{session_ids[0]}/")
    await expect(claire.page.locator("#attendance input[type=radio][value='1']:checked")).to_have_count(3)
    await shoot(claire, shots, "05-session")

    # --- 7. Everyone opens the room of session 2: the follow-up of Anna's plan -----------------------
    room_2 = f"{base}/workshops/{room_ids[1]}/"

    async def enter_session_2(m: Member):
        await m.page.goto(group_url)
        await m.page.locator(f'#sessions a[href="/workshops/{room_ids[1]}/"]').click()
        await expect(m.page).to_have_url(room_2)
        await expect(m.page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)
        await m.page.evaluate(MARK)
        plan = m.page.locator("#followup article.plan")
        await expect(plan).to_have_count(1)
        await expect(plan).to_contain_text(ANNA_CASE)
        await expect(plan.locator("li.item.action strong")).to_have_text([ACTION])
        await expect(plan.locator("li.item.action .badge.followup-open")).to_have_count(1)
        # Only the plan's client reports on it.
        await expect(m.page.locator('form.act[data-type="report_followup"]')).to_have_count(1 if m is anna else 0)

    await each(everyone, enter_session_2)
    await expect(claire.page.locator("#pool li.item.case", has_text=BRUNO_CASE)).to_have_count(1)  # still in the pool
    await expect(claire.page.locator("#pool li.item.case", has_text=ANNA_CASE)).to_have_count(0)  # treated

    await send_form(anna, "report_followup", fields={"followup": "done", "comment": FOLLOWUP_COMMENT})

    async def sees_the_report(m: Member):
        action = m.page.locator("#followup li.item.action")
        await expect(action.locator(".badge.followup-done")).to_have_count(1)
        await expect(action.locator(".text", has_text=FOLLOWUP_COMMENT)).to_have_count(1)

    await each(everyone, sees_the_report)
    for m in everyone:
        assert await m.page.evaluate(SAME_DOCUMENT), f"{m.username}'s room of session 2 was reloaded"
    await expect(anna.page.locator('form.act[data-type="report_followup"] select[name=followup]')).to_have_value("done")
    await shoot(bruno, shots, "04-followup")
    rows = server.query("SELECT followup, followup_comment FROM workshops_plannedaction WHERE workshop_id = %s", (room_ids[0],))
    assert [(followup, server.decrypt(comment)) for followup, comment in rows] == [("done", FOLLOWUP_COMMENT)]

    # --- 8. Anna's journal keeps her plan and where it stands ----------------------------------------
    await anna.page.goto(f"{base}/journal/")
    action = anna.page.locator("article.journal-part li.item.action", has_text=ACTION)
    await expect(action).to_have_count(1)
    await expect(action).to_contain_text(FOLLOWUP_COMMENT)
    await shoot(anna, shots, "06-journal-anna")
