"""A whole workshop with the keyboard alone.

Sophie, a consultant, never touches a mouse: on her page only Tab, Shift+Tab, Enter, Space, the
arrow keys of a radio group and typing — no click, no fill. She asks a question, accepts the rules,
offers a contribution, writes a learning and evaluates the session; Marc, the client, marks her
contribution as kept with the keyboard. Each arrives on another member's screen. Every control she
reaches shows a visible focus ring, and a live re-render of the room while she types leaves her
focus and her text where they were. The facilitator (Claire) drives the steps with plain clicks.
"""
import re

import pytest

try:
    from playwright.async_api import expect
except ImportError:  # the conftest skips (or fails, with CODEV_REQUIRE_BROWSER=1) with the reason
    expect = None

from tests.browser.a11y import SCREENSHOTS, in_the_room
from tests.browser.test_live_workshop import LIVE, Member, current_step_is, each, send_form

pytestmark = pytest.mark.browser

MAX_TABS = 150  # a page's worth of Tab stops, more than any room has

FOCUSED_IS = """(selector) => {
  const e = document.activeElement;
  return !!e && e !== document.body && e.matches(selector);
}"""

# What the focused element is, for failure messages.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "<body>";
  const form = e.closest("form[data-type]");
  return `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}${e.name ? "[name=" + e.name + "]" : ""}`
    + (form ? ` in form ${form.dataset.type}` : "");
}"""

# A focus ring a sighted keyboard user can see: :focus-visible matches and draws an outline (or a
# box-shadow) of some width.
FOCUS_RING = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || !e.matches(":focus-visible")) return false;
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
  return outline || (s.boxShadow && s.boxShadow !== "none");
}"""


async def tab_to(page, selector: str, *, backwards: bool = False):
    """Press Tab (or Shift+Tab) until the focus is on `selector`, as a keyboard user would."""
    key = "Shift+Tab" if backwards else "Tab"
    seen = []
    for _ in range(MAX_TABS):
        if await page.evaluate(FOCUSED_IS, selector):
            assert await page.evaluate(FOCUS_RING), f"no visible focus ring on {await page.evaluate(FOCUSED)}"
            return
        await page.keyboard.press(key)
        seen.append(await page.evaluate(FOCUSED))
    raise AssertionError(f"{selector} never got the focus with {key}; went through: {seen[:60]}")


async def type_into(page, selector: str, text: str):
    await tab_to(page, selector)
    await page.keyboard.type(text)


async def press_on(page, selector: str, key: str = "Enter", *, backwards: bool = False):
    await tab_to(page, selector, backwards=backwards)
    await page.keyboard.press(key)


def form(kind: str) -> str:
    return f'#room form.act[data-type="{kind}"]'


async def sent(m: Member, kind: str):
    """The form's message was acknowledged (no longer pending) and not refused."""
    await expect(m.page.locator(f'form.act.pending[data-type="{kind}"]')).to_have_count(0)
    toast = m.page.locator("#toast")
    assert not await toast.is_visible(), f"{m.username}: {kind} refused: {await toast.text_content()!r}"


async def test_a_consultant_runs_a_whole_workshop_with_the_keyboard_alone(codev_server, browser_executable):
    claire, marc, sophie = Member("claire", None), Member("marc", None), Member("sophie", None)
    nadia = Member("nadia", None)  # votes at the opening while Sophie chooses
    async with in_the_room(codev_server, browser_executable, [claire, marc, sophie, nadia]):
        await play(claire, marc, sophie, nadia)


async def play(claire, marc, sophie, nadia):
    expect.set_options(timeout=LIVE)
    trio = [claire, marc, sophie]
    page = sophie.page

    # The first Tab stop skips the top bar; the focus ring shows.
    await page.keyboard.press("Tab")
    assert await page.evaluate(FOCUSED_IS, "a.skip-link"), await page.evaluate(FOCUSED)
    assert await page.evaluate(FOCUS_RING), "the skip link shows no focus ring"

    # --- the opening: Sophie votes; Nadia's vote, meanwhile, re-renders the whole room -----------
    second_vote = f"{form('vote')} .row label:nth-child(2) select[name=votes]"
    await tab_to(page, second_vote)
    await page.keyboard.press("ArrowDown")  # the first case of the pool
    chosen = await page.locator(second_vote).input_value()
    assert chosen, "the arrow key chose no case"
    await nadia.page.locator(f"{form('vote')} select[name=votes]").first.select_option(index=1)
    await send_form(nadia, "vote")
    await expect(page.locator("#voters")).to_contain_text("1")  # the re-render reached her
    assert await page.evaluate(FOCUSED_IS, second_vote), f"the focus left her vote: {await page.evaluate(FOCUSED)}"
    await expect(page.locator(second_vote)).to_have_value(chosen)  # her unsent choice is kept
    await press_on(page, f"{form('vote')} button[type=submit]")
    await sent(sophie, "vote")
    await expect(page.locator("#voters")).to_contain_text("2")
    await expect(claire.page.locator("table.tally td.num", has_text="2")).to_have_count(1)  # both chose the same case

    case = await claire.page.locator("select[name=case_id] option").evaluate_all(
        "(options) => options.find((o) => o.textContent.includes('Reprendre une équipe qui a perdu confiance')).value"
    )
    await send_form(claire, "designate_case", fields={"case_id": case})
    await send_form(claire, "start")
    await current_step_is(trio, 1)

    # --- a step change while she types a private note: the focus and the text stay ---------------
    note = "#note-body"
    await type_into(page, note, "Le silence en réunion")
    await send_form(claire, "advance")
    await current_step_is(trio, 2)
    assert await page.evaluate(FOCUSED_IS, note), f"the focus left the note: {await page.evaluate(FOCUSED)}"
    await expect(page.locator(note)).to_have_value("Le silence en réunion")
    await page.keyboard.type(".")
    await press_on(page, f"{form('write_note')} button[type=submit]", "Space")
    await expect(page.locator("#notes li")).to_have_count(1)

    # --- 2. clarification: a question, sent with Enter on the button ------------------------------
    question = "Depuis quand l'équipe se tait-elle en réunion ?"
    await type_into(page, f"{form('ask_question')} textarea[name=body]", question)
    await tab_to(page, f"{form('ask_question')} button[type=submit]")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "a11y-keyboard-focus.png"))  # the focus ring, as seen
    await page.keyboard.press("Enter")
    await sent(sophie, "ask_question")
    await expect(claire.page.locator("#questions > li .text")).to_have_text([question])

    # --- 3. contract: she accepts the rules ---------------------------------------------------------
    await send_form(claire, "advance")
    await current_step_is(trio, 3)
    await press_on(page, f"{form('accept_rules')} button[type=submit]", "Space")
    await expect(claire.page.locator("#acceptances")).to_contain_text("Sophie Bernard")
    await expect(page.locator("#my-acceptance .accepted")).to_be_visible()
    # The button is gone; her focus stays where it was, not back at the top of the page.
    assert await page.evaluate("() => document.activeElement.closest('#my-acceptance') !== null"), await page.evaluate(FOCUSED)
    await each([marc, nadia], lambda m: send_form(m, "accept_rules"))  # the others, as they like

    # --- 4. consultation: an experience (the kind chosen with the keyboard), marked kept by Marc ----
    await send_form(claire, "advance")
    await current_step_is(trio, 4)
    await tab_to(page, f"{form('contribute')} select[name=kind]")
    await page.keyboard.press("ArrowDown")  # the second kind
    second_kind = await page.locator(f"{form('contribute')} select[name=kind] option").nth(1).get_attribute("value")
    await expect(page.locator(f"{form('contribute')} select[name=kind]")).to_have_value(second_kind)
    idea = "J'ai vécu la même chose : un café d'équipe le lundi a tout changé."
    await type_into(page, f"{form('contribute')} textarea[name=body]", idea)
    await press_on(page, f"{form('contribute')} button[type=submit]")
    await sent(sophie, "contribute")
    item = marc.page.locator("#contributions > li", has_text="un café d'équipe")
    await expect(item).to_have_class(re.compile(rf"\bkind-{second_kind}\b"))
    item_id = await item.get_attribute("id")

    # Marc keeps it, with the keyboard too; everyone sees the mark.
    await press_on(marc.page, f"#{item_id} button[name=mark][value=keep]", "Enter")
    await expect(page.locator(f"#{item_id}")).to_have_class(re.compile(r"\bmarked-keep\b"))
    await expect(marc.page.locator(f"#{item_id} button[name=mark][value=keep]")).to_have_attribute("aria-pressed", "true")
    # His focus stays on the button he pressed, not lost to the page.
    assert await marc.page.evaluate(FOCUSED_IS, f"#{item_id} button[name=mark][value=keep]"), await marc.page.evaluate(FOCUSED)

    # --- 5. and 6.: a learning and an evaluation ----------------------------------------------------
    await send_form(claire, "advance")
    await current_step_is(trio, 5)
    await send_form(claire, "advance")
    await current_step_is(trio, 6)
    learning = "Écouter avant de proposer."
    await type_into(page, f"{form('write_learning')} textarea[name=body]", learning)
    await press_on(page, f"{form('write_learning')} button[type=submit]")
    await sent(sophie, "write_learning")
    await expect(claire.page.locator("#learnings > li .text")).to_have_text([learning])

    await tab_to(page, f"{form('evaluate')} input[name=score]")  # a radio group is one Tab stop
    await page.keyboard.press("Space")  # checks the first score
    for _ in range(3):
        await page.keyboard.press("ArrowRight")  # …then moves to 4
    await expect(page.locator(f"{form('evaluate')} input[name=score][value='4']")).to_be_checked()
    await type_into(page, f"{form('evaluate')} textarea[name=comment]", "Merci au groupe.")
    # Back to the radio group and forward again: Shift+Tab works as well.
    await tab_to(page, f"{form('evaluate')} input[name=score]", backwards=True)
    await press_on(page, f"{form('evaluate')} button[type=submit]")
    await sent(sophie, "evaluate")
    await expect(page.locator("#my-evaluation")).to_contain_text("4/5")
    await expect(claire.page.locator("#evaluation-count")).to_contain_text("1")
    await each([claire], lambda m: expect(m.page.locator("#learnings > li")).to_have_count(1))
