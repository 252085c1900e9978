"""A whole workshop played in four real browsers: facilitator Claire, client Marc, consultants
Sophie and Julien, each in its own browser context, all in the same room.

Everything is done by clicking and typing; every assertion is about what each person sees LIVE
(no reload), within a few seconds. Elements are found by ids, names, data-type and roles, and
never by visible text, which belongs to the translators.
"""
import asyncio
import re
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import pytest

try:
    from playwright.async_api import async_playwright, expect
except ImportError:  # the conftest skips (or fails, with CODEV_REQUIRE_BROWSER=1) with the reason
    async_playwright = expect = None

from tests.browser.conftest import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

LIVE = 5_000  # ms: what "live" means in these assertions

PWNED = "<script>window.__pwned=1</script><b>x</b>"
PWNED_IMG = '<img src=x onerror="window.__pwned=2">'


# Every websocket the page opens, to check that reconnecting never leaves two open.
COUNT_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
})();
"""
OPEN_SOCKETS = "() => window.__sockets.filter((s) => s.readyState === WebSocket.OPEN).length"


@dataclass(eq=False)
class Member:
    username: str
    shot: str | None  # the role in screenshot names, or None for no screenshot
    context: object = None
    page: object = None
    errors: list = field(default_factory=list)

    def __repr__(self):
        return f"<{self.username}>"


async def each(members, check):
    """Run the same check in several browsers at once."""
    await asyncio.gather(*(check(m) for m in members))


async def current_step_is(members, number: int):
    async def check(m):
        current = m.page.locator("ol.stepper li[aria-current=step]")
        await expect(current).to_have_count(1)
        await expect(current.locator(".num")).to_have_text(str(number))
        await expect(m.page.locator(".room-meta")).to_have_attribute("data-step", str(number))

    await each(members, check)


async def send_form(m: Member, kind: str, *, fields=None, check=(), button=None, scope=None, wait=True):
    """Fill and submit the room form `data-type=kind` as a person would, then wait for the answer."""
    page = m.page
    root = scope if scope is not None else page.locator("#room")
    form = root.locator(f'form.act[data-type="{kind}"]')
    await expect(form).to_have_count(1)
    for name, value in (fields or {}).items():
        control = form.locator(f'[name="{name}"]')
        if await control.evaluate("e => e.tagName") == "SELECT":
            await control.select_option(value)
        else:
            await control.fill(value)
    for name, value in check:
        await form.locator(f'input[name="{name}"][value="{value}"]').check()
    if button:
        submit = form.locator(f'button[type=submit][name="{button[0]}"][value="{button[1]}"]')
    else:
        submit = form.locator("button[type=submit]").first
    await submit.click()
    if not wait:
        return
    # The form is pending until the server's ack (or error); a structural change replaces it.
    await expect(page.locator(f'form.act.pending[data-type="{kind}"]')).to_have_count(0, timeout=LIVE)
    toast = page.locator("#toast")
    if await toast.is_visible():
        raise AssertionError(f"{m.username}: {kind} was refused: {await toast.text_content()!r}")


def timer_seconds(text: str) -> int:
    found = re.search(r"(\d+):(\d\d)", text)
    assert found, f"no countdown in {text!r}"
    return int(found[1]) * 60 + int(found[2])


async def timer_is_counting(m: Member):
    timer = m.page.locator("#timer")
    await expect(timer).to_have_text(re.compile(r"^\d\d:\d\d$"))
    before = await timer.text_content()
    await expect(timer).not_to_have_text(before, timeout=3_000)  # it moves, by itself
    await expect(timer).not_to_have_class(re.compile(r"\bpaused\b"))


async def screenshots(members, directory, name: str):
    async def shoot(m):
        if m.shot:
            await m.page.screenshot(path=str(directory / f"{name}-{m.shot}.png"), full_page=True)

    await each(members, shoot)


async def item_id(locator) -> int:
    return int((await locator.get_attribute("id")).split("-")[1])


async def test_a_whole_workshop_live_in_four_browsers(codev_server, browser_executable, screenshots_dir):
    claire = Member("claire", "facilitator")
    marc = Member("marc", "client")
    sophie = Member("sophie", "consultant")
    julien = Member("julien", None)  # the second consultant: the one who goes offline
    everyone = [claire, marc, sophie, julien]
    room_url = codev_server.room_url()
    shots = screenshots_dir

    async with AsyncExitStack() as stack:
        pw = await stack.enter_async_context(async_playwright())
        browser = await pw.chromium.launch(executable_path=browser_executable, args=CHROMIUM_ARGS)
        stack.push_async_callback(browser.close)

        async def arrive(m: Member):
            m.context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
            await m.context.add_init_script(COUNT_SOCKETS)
            m.page = await m.context.new_page()
            m.page.on("pageerror", lambda error, m=m: m.errors.append(str(error)))
            await m.page.goto(codev_server.links[m.username]["url"])  # the single-use sign-in link
            await m.page.goto(room_url)
            await expect(m.page.locator("#room")).to_have_attribute("data-workshop", str(codev_server.workshop))
            await expect(m.page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)

        await asyncio.gather(*(arrive(m) for m in everyone))

        try:
            await play(claire, marc, sophie, julien, shots, codev_server)
        except BaseException:
            # The state of every browser at the failure, for whoever reads the report.
            for m in everyone:
                if m.page is not None:
                    try:
                        await m.page.screenshot(path=str(shots / f"FAILED-{m.username}.png"), full_page=True)
                    except Exception as error:  # the original failure matters more
                        print(f"no failure screenshot for {m.username}: {error}")
            print("---- server log ----\n" + codev_server.log_tail())
            raise

        for m in everyone:
            assert await m.page.evaluate(OPEN_SOCKETS) == 1, f"{m.username}'s page holds several open websockets"
            assert m.errors == [], f"JavaScript errors in {m.username}'s browser: {m.errors}"


async def play(claire, marc, sophie, julien, shots, codev_server):
    everyone = [claire, marc, sophie, julien]
    participants = [marc, sophie, julien]  # those who accept the rules and evaluate
    expect.set_options(timeout=LIVE)

    # --- presence: everyone sees the four people in the room -----------------------------
    async def four_present(m):
        await expect(m.page.locator("#presence .people li[data-user]")).to_have_count(4)

    await each(everyone, four_present)
    await expect(claire.page.locator("#presence")).to_contain_text("Julien Petit")
    await expect(julien.page.locator("#presence")).to_contain_text("Claire Morel")
    # Nobody but the facilitator gets the controls.
    for m in participants:
        await expect(m.page.locator('form.act[data-type="designate_case"]')).to_have_count(0)
    await screenshots(everyone, shots, "00-accueil")

    # --- the facilitator chooses Marc's case and starts ------------------------------------
    value = await claire.page.locator("select[name=case_id] option").evaluate_all(
        "(options) => options.find((o) => o.textContent.includes('Reprendre une équipe qui a perdu confiance')).value"
    )
    await send_form(claire, "designate_case", fields={"case_id": value})
    # Marc learns live that he is the client; the others see who is.
    await expect(marc.page.locator("#my-role")).to_have_text("client")
    await expect(sophie.page.locator(".room-head")).to_contain_text("Marc Lefèvre")
    await send_form(claire, "start")
    await current_step_is(everyone, 1)

    async def sees_the_case(m):
        await expect(m.page.locator("#case h3")).to_have_text("Reprendre une équipe qui a perdu confiance")
        await timer_is_counting(m)

    await each(everyone, sees_the_case)
    await expect(marc.page.locator("#my-role")).not_to_have_text(await sophie.page.locator("#my-role").text_content())

    # --- 1. Exposé: the client edits his case, everyone reads it live -------------------------
    for m in (claire, sophie, julien):
        await expect(m.page.locator('form.act[data-type="edit_case"]')).to_have_count(0)
    tried = "Des entretiens individuels, et depuis hier un café d'équipe le lundi matin."
    await send_form(marc, "edit_case", fields={"tried": tried, "expectations": "Deux pistes concrètes avant l'audit de mars."})

    async def sees_the_edit(m):
        await expect(m.page.locator("#case")).to_contain_text("un café d'équipe le lundi matin")
        await expect(m.page.locator("#case")).to_contain_text("Deux pistes concrètes")

    await each(everyone, sees_the_edit)

    # A private note stays private.
    await send_form(sophie, "write_note", fields={"body": "Note pour moi : la relation avec les deux anciens."})
    await expect(sophie.page.locator("#notes li")).to_have_count(1)
    for m in (claire, marc, julien):
        await expect(m.page.locator("#notes li")).to_have_count(0)

    # The timer: pause, +5 min, resume — every screen follows.
    await send_form(claire, "timer", button=("op", "pause"))

    async def paused(m):
        await expect(m.page.locator("#timer")).to_have_class(re.compile(r"\bpaused\b"))

    await each(everyone, paused)
    left = {m.username: timer_seconds(await m.page.locator("#timer").text_content()) for m in everyone}
    await expect(claire.page.locator('#room form[data-type="timer"] button[value="resume"]')).to_be_visible()
    await expect(claire.page.locator('#room form[data-type="timer"] button[value="pause"]')).to_be_hidden()
    await send_form(claire, "timer", button=("op", "extend"))

    async def extended(m):
        timer = m.page.locator("#timer")
        await expect(timer).to_have_text(re.compile(r"\d\d:\d\d"))
        await _poll(lambda: timer.text_content(), lambda text: timer_seconds(text) >= left[m.username] + 300 - 2,
                    f"{m.username}'s timer did not gain 5 minutes")

    await each(everyone, extended)
    await send_form(claire, "timer", button=("op", "resume"))
    await each(everyone, timer_is_counting)
    await expect(claire.page.locator('#room form[data-type="timer"] button[value="pause"]')).to_be_visible()
    await screenshots(everyone, shots, "01-expose")

    await send_form(claire, "advance")
    await current_step_is(everyone, 2)

    # --- 2. Clarification: a consultant asks, the client answers, the consultant reads it ------
    await expect(marc.page.locator('form.act[data-type="ask_question"]')).to_have_count(0)
    question = "Depuis quand l'équipe se tait-elle en réunion ?"
    await send_form(sophie, "ask_question", fields={"body": question})

    async def sees_the_question(m):
        await expect(m.page.locator("#questions > li")).to_have_count(1)
        await expect(m.page.locator("#questions > li .text").first).to_have_text(question)

    await each(everyone, sees_the_question)
    for m in (claire, sophie, julien):
        await expect(m.page.locator('form.act[data-type="answer_question"]')).to_have_count(0)
    answer = "Depuis le départ de mon prédécesseur, il y a trois mois."
    asked = marc.page.locator("#questions > li").first
    await send_form(marc, "answer_question", fields={"body": answer}, scope=asked)

    async def sees_the_answer(m):
        await expect(m.page.locator("#questions > li .answer")).to_contain_text(answer)

    await each(everyone, sees_the_answer)
    await send_form(julien, "ask_question", fields={"body": "Qu'attend précisément la direction pour l'audit ?"})
    await each(everyone, lambda m: expect(m.page.locator("#questions > li")).to_have_count(2))

    # Back one step with a reason, then forward again: nothing is lost on the way.
    reason = "Marc veut préciser le contexte"
    await send_form(claire, "go_back", fields={"reason": reason})
    await current_step_is(everyone, 1)
    await expect(claire.page.locator("ul.log")).to_contain_text(reason)
    await expect(marc.page.locator('form.act[data-type="edit_case"]')).to_have_count(1)
    await send_form(claire, "advance")
    await current_step_is(everyone, 2)
    await each(everyone, lambda m: expect(m.page.locator("#questions > li")).to_have_count(2))
    await each(everyone, sees_the_answer)
    await screenshots(everyone, shots, "02-clarification")

    await send_form(claire, "advance")
    await current_step_is(everyone, 3)

    # --- 3. Contract: "Aidez-moi à …", help kinds, everyone accepts the rules -------------------
    request = "Aidez-moi à rétablir le dialogue avec mon équipe avant l'audit."
    await send_form(marc, "write_request", fields={"request": request}, check=[("help_kinds", "ideas"), ("help_kinds", "experiences")])

    async def sees_the_request(m):
        await expect(m.page.locator("#contract-request")).to_contain_text(request)

    await each(everyone, sees_the_request)
    await expect(claire.page.locator('form.act[data-type="accept_rules"]')).to_have_count(0)
    for count, m in enumerate(participants, start=1):
        await send_form(m, "accept_rules")
        await each(everyone, lambda viewer, count=count: expect(viewer.page.locator("#acceptances li")).to_have_count(count))
    await expect(claire.page.locator("#acceptances")).to_contain_text("Sophie Bernard")
    await screenshots(everyone, shots, "03-contrat")

    await send_form(claire, "advance")
    await current_step_is(everyone, 4)

    # --- 4. Consultation: typed contributions, an attempt at injection, the client marks -------
    await expect(marc.page.locator('form.act[data-type="contribute"]')).to_have_count(0)
    idea = "Idée : un tour de table où chacun dit une chose qui marche et une qui bloque."
    experience = "J'ai vécu la même chose : j'ai commencé par rencontrer les deux anciens ensemble."
    await send_form(sophie, "contribute", fields={"kind": "idea", "body": idea})
    await send_form(julien, "contribute", fields={"kind": "experience", "body": experience})
    await send_form(sophie, "contribute", fields={"kind": "perspective", "body": PWNED + PWNED_IMG})

    async def sees_three_as_text(m):
        items = m.page.locator("#contributions > li")
        await expect(items).to_have_count(3)
        await expect(items.locator(".text")).to_have_text([idea, experience, PWNED + PWNED_IMG])
        await expect(m.page.locator("#contributions li.kind-idea")).to_have_count(1)
        await expect(m.page.locator("#contributions li.kind-experience")).to_have_count(1)
        await expect(m.page.locator("#contributions li.kind-perspective")).to_have_count(1)
        assert await m.page.locator("#contributions b, #contributions img, #contributions script").count() == 0
        assert await m.page.evaluate("() => typeof window.__pwned") == "undefined", m.username

    await each(everyone, sees_three_as_text)

    kept = marc.page.locator("#contributions > li.kind-idea")
    kept_id = await item_id(kept)
    await send_form(marc, "mark_contribution", button=("mark", "keep"), scope=kept)

    async def sees_the_mark(m):
        item = m.page.locator(f"#c-{kept_id}")
        await expect(item).to_have_class(re.compile(r"\bmarked-keep\b"))
        await expect(item.locator(".badge.mark-keep")).to_be_visible()

    await each(everyone, sees_the_mark)
    await expect(marc.page.locator(f'#c-{kept_id} button[name=mark][value=keep]')).to_have_attribute("aria-pressed", "true")
    for m in (claire, sophie, julien):
        await expect(m.page.locator('form.act[data-type="mark_contribution"]')).to_have_count(0)

    # Julien loses the network. The others go on; he writes too; nothing is lost or doubled.
    await julien.context.set_offline(True)
    await expect(julien.page.locator("body")).to_have_attribute("data-connected", "0")
    await expect(julien.page.locator("#connection")).to_have_class(re.compile(r"\boffline\b"))
    await each([claire, marc, sophie], lambda m: expect(m.page.locator("#presence .people li[data-user]")).to_have_count(3))

    missed = [
        "Ressource : « Manager sans autorité », chapitre sur la confiance.",
        "Idée : confier aux deux anciens le tutorat des plus jeunes.",
    ]
    await send_form(sophie, "contribute", fields={"kind": "resource", "body": missed[0]})
    await send_form(sophie, "contribute", fields={"kind": "idea", "body": missed[1]})
    explored = marc.page.locator("#contributions > li.kind-experience")
    await send_form(marc, "mark_contribution", button=("mark", "explore"), scope=explored)
    queued = "Écrit hors ligne : et si l'audit devenait un projet d'équipe ?"
    await send_form(julien, "contribute", fields={"kind": "perspective", "body": queued}, wait=False)
    pending = julien.page.locator('form.act.pending[data-type="contribute"]')
    await expect(pending).to_have_count(1)
    await expect(julien.page.locator("#connection")).not_to_be_empty()  # "what you write is kept and will be sent"
    await expect(julien.page.locator("#contributions > li")).to_have_count(3)  # he cannot see them yet
    assert await julien.page.evaluate(
        "(id) => JSON.parse(localStorage.getItem(`codev:outbox:${id}`) || '[]').length", str(codev_server.workshop)
    ) == 1, "the contribution typed offline is not kept in the outbox"
    await each([claire, marc, sophie], lambda m: expect(m.page.locator("#contributions > li")).to_have_count(5))
    await julien.page.screenshot(path=str(shots / "04-consultation-consultant-offline.png"), full_page=True)
    await asyncio.sleep(0.3)  # a little real time offline: reconnection attempts must fail and retry

    await julien.context.set_offline(False)
    await expect(julien.page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)
    expected = [idea, experience, PWNED + PWNED_IMG, *missed, queued]

    async def sees_everything_once(m):
        items = m.page.locator("#contributions > li")
        await expect(items).to_have_count(len(expected))
        await expect(items.locator(".text")).to_have_text(expected)
        await expect(m.page.locator("#contributions > li.marked-explore")).to_have_count(1)
        await expect(m.page.locator("#contributions > li.marked-keep")).to_have_count(1)
        await expect(m.page.locator("#presence .people li[data-user]")).to_have_count(4)

    await each(everyone, sees_everything_once)
    await expect(julien.page.locator('form.act.pending[data-type="contribute"]')).to_have_count(0)
    await expect(julien.page.locator('form.act[data-type="contribute"] textarea[name=body]')).to_have_value("")
    assert await julien.page.evaluate(
        "(id) => JSON.parse(localStorage.getItem(`codev:outbox:${id}`) || '[]').length", str(codev_server.workshop)
    ) == 0, "the outbox was not emptied after the server's ack"
    stored = [codev_server.decrypt(body) for (body,) in codev_server.query("SELECT body FROM workshops_contribution")].count(queued)
    assert stored == 1, f"the contribution written offline is stored {stored} times"
    await each(everyone, injected_markup_stays_text)
    await screenshots(everyone, shots, "04-consultation")

    await send_form(claire, "advance")
    await current_step_is(everyone, 5)

    # --- 5. Action plan: an action linked to the kept contribution -----------------------------
    for m in (claire, sophie, julien):
        await expect(m.page.locator('form.act[data-type="add_action"]')).to_have_count(0)
    what = "Organiser un tour de table chaque lundi pendant un mois."
    await send_form(
        marc, "add_action",
        fields={"what": what, "first_step": "Annoncer le principe à l'équipe lundi.", "due": "2026-12-15",
                "success_sign": "Au moins deux anciens prennent la parole."},
        check=[("kept", str(kept_id))],
    )

    async def sees_the_action(m):
        action = m.page.locator("#actions > li")
        await expect(action).to_have_count(1)
        await expect(action.locator("strong")).to_have_text(what)
        await expect(action.locator(".quote")).to_contain_text("Idée : un tour de table")

    await each(everyone, sees_the_action)
    await screenshots(everyone, shots, "05-plan")

    await send_form(claire, "advance")
    await current_step_is(everyone, 6)

    # --- 6. Learning: everyone writes, client and consultants evaluate ---------------------------
    learnings = {
        claire: "J'ai appris à laisser le silence travailler.",
        marc: "Je vais écouter avant d'imposer.",
        sophie: "Les anciens sont une ressource, pas un obstacle.",
        julien: "Écrire hors ligne fonctionne.",
    }
    await asyncio.gather(*(send_form(m, "write_learning", fields={"body": body}) for m, body in learnings.items()))

    async def sees_all_learnings(m):
        await expect(m.page.locator("#learnings > li")).to_have_count(4)
        for body in learnings.values():
            await expect(m.page.locator("#learnings > li .text", has_text=body)).to_have_count(1)

    await each(everyone, sees_all_learnings)
    await expect(claire.page.locator('form.act[data-type="evaluate"]')).to_have_count(0)
    for score, m in zip(("5", "4", "4"), participants, strict=True):
        await send_form(m, "evaluate", check=[("score", score)], fields={"comment": "Merci au groupe."})
        await expect(m.page.locator("#my-evaluation")).to_contain_text(f"{score}/5")
    await each(everyone, lambda m: expect(m.page.locator("#evaluation-count")).to_contain_text("3"))
    await screenshots(everyone, shots, "06-apprentissage")

    # --- the facilitator ends the workshop (a confirmation dialog) --------------------------------
    dialogs = []

    async def on_dialog(dialog):
        dialogs.append(dialog.type)
        await dialog.accept()

    claire.page.once("dialog", on_dialog)
    await send_form(claire, "end")
    assert dialogs == ["confirm"]

    async def sees_the_end(m):
        await expect(m.page.locator(".room-meta")).to_have_attribute("data-status", "ended")
        await expect(m.page.locator("ol.stepper li[aria-current=step]")).to_have_count(0)
        await expect(m.page.locator("#timer")).to_have_count(0)
        await expect(m.page.locator("#room form.act")).to_have_count(0)
        await expect(m.page.locator("#learnings > li")).to_have_count(4)
        await expect(m.page.locator("#contributions > li")).to_have_count(len(expected))
        assert await m.page.evaluate("() => typeof window.__pwned") == "undefined", m.username

    await each(everyone, sees_the_end)
    await screenshots(everyone, shots, "07-fin")

    # What the server stored, read straight from its database.
    assert codev_server.query("SELECT count(*) FROM workshops_contribution WHERE kind <> 'question'") == [(len(expected),)]
    assert codev_server.query("SELECT count(*) FROM workshops_learning") == [(4,)]
    assert codev_server.query("SELECT status, step FROM workshops_workshop WHERE id = %s", (codev_server.workshop,)) == [("ended", 6)]


async def injected_markup_stays_text(m: Member):
    """The injected markup is still plain text after a catch-up, in every browser."""
    assert await m.page.locator("#contributions b, #contributions img, #contributions script").count() == 0
    assert await m.page.evaluate("() => typeof window.__pwned") == "undefined", m.username
    await expect(m.page.locator("#contributions > li .text", has_text="<script>")).to_have_count(1)


async def _poll(read, ok, message, timeout=LIVE / 1000):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    value = None
    while loop.time() < deadline:
        value = await read()
        if ok(value):
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"{message} (last seen: {value!r})")
