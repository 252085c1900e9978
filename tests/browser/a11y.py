"""Accessibility checks for the browser tests: axe-core (the npm package, installed by
`npm ci --prefix tests/browser`, which `make test` runs through scripts/system-deps.sh).

    from tests.browser.a11y import axe_check, narrow_check, sweep
    await axe_check(page, "projector")     # fails on any serious or critical WCAG 2.x A/AA violation
    await narrow_check(page, "projector")  # 375 px wide: a screenshot, and no horizontal scrolling
    await sweep(page, "projector")         # both

The full axe result goes to test-artifacts/axe/<name>.json, the screenshot to
test-artifacts/screenshots/a11y-375-<name>.png. axe is injected with `page.evaluate`,
which the DevTools protocol runs outside the page's Content-Security-Policy: the page keeps its
strict policy (no inline script) and needs no `bypass_csp`.
"""
import asyncio
import json
import os
from contextlib import asynccontextmanager
from functools import cache

import pytest

from tests.browser.conftest import ARTIFACTS, CHROMIUM_ARGS, ROOT, SCREENSHOTS

AXE_JS = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
AXE_RESULTS = ARTIFACTS / "axe"
# WCAG 2.0-2.2 A and AA, and axe's best practices (landmarks, heading order, skip link…): all
# reported in the JSON; the serious and critical ones fail the test.
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("serious", "critical")
PHONE = {"width": 375, "height": 812}  # an iPhone X/11 Pro/12 mini-sized screen, in CSS pixels

# resultTypes: every violation and every node axe could not decide on, in full; passes and
# inapplicable rules are listed with one example node each (the run is much faster).
RUN_AXE = """async (tags) => {
  return await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations", "incomplete"] });
}"""


@cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_available() -> bool:
    return AXE_JS.is_file()


def require_axe() -> None:
    """Without axe-core the accessibility checks skip with the reason, or fail under
    CODEV_REQUIRE_BROWSER=1 (CI), where a missing checker must not pass for a clean page."""
    if axe_available():
        return
    message = f"axe-core is missing at {AXE_JS}: run `npm ci --prefix tests/browser` (or `make test-deps`)"
    if os.environ.get("CODEV_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def blocking_violations(result: dict) -> list[dict]:
    return [v for v in result["violations"] if v.get("impact") in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:8]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {target}: {summary[:300]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


async def axe_check(page, name: str) -> dict:
    """Run axe-core on the page as it is now; write the result; fail on serious/critical ones."""
    require_axe()
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(_axe_source())
    result = await page.evaluate(RUN_AXE, RULE_TAGS)
    AXE_RESULTS.mkdir(parents=True, exist_ok=True)
    (AXE_RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    blocking = blocking_violations(result)
    assert not blocking, f"axe-core: {len(blocking)} serious/critical violation(s) on {name} ({page.url}):\n{describe(blocking)}"
    return result


# The deepest elements that stick out to the right of the viewport, outside any scrolling box:
# where a fix is needed.
OVERFLOWING = """(limit) => {
  const clipped = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible" && p.getBoundingClientRect().right <= limit + 0.5) return true;
    }
    return false;
  };
  const out = [...document.querySelectorAll("body *")].filter((e) => {
    const box = e.getBoundingClientRect();
    return box.width > 0 && box.right > limit + 0.5 && getComputedStyle(e).position !== "fixed" && !clipped(e);
  });
  return out.filter((e) => !out.some((o) => o !== e && e.contains(o))).slice(0, 12).map((e) => {
    const id = e.id ? `#${e.id}` : "";
    const cls = e.classList.length ? `.${[...e.classList].join(".")}` : "";
    return `${e.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(e.getBoundingClientRect().right)} px)`;
  });
}"""


async def narrow_check(page, name: str) -> None:
    """The page at 375 px wide: a full-page screenshot, and nothing wider than the screen
    (no horizontal scrolling). The viewport is put back as it was."""
    before = page.viewport_size
    await page.set_viewport_size(PHONE)
    try:
        await page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"a11y-375-{name}.png"), full_page=True)
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            culprits = await page.evaluate(OVERFLOWING, PHONE["width"])
            raise AssertionError(f"{name} scrolls horizontally at {PHONE['width']} px (scrollWidth {width}): "
                                 + "; ".join(culprits))
    finally:
        if before:
            await page.set_viewport_size(before)


async def sweep(page, name: str) -> None:
    """axe-core at the page's own size, then the 375 px check."""
    await axe_check(page, name)
    await narrow_check(page, name)


@asynccontextmanager
async def in_the_room(server, executable: str, members: list):
    """One browser; each member in a context of his own, signed in by his link, in the live room.
    Yields the browser (for more contexts); at the end, no JavaScript error in any member's page.
    On a failure the server's log is printed."""
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            async def arrive(m):
                m.context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
                m.context.set_default_timeout(5_000)
                m.context.set_default_navigation_timeout(15_000)
                m.page = await m.context.new_page()
                m.page.on("pageerror", lambda error, m=m: m.errors.append(f"pageerror: {error}"))
                await m.page.goto(server.links[m.username]["url"])  # the single-use sign-in link
                await m.page.goto(server.room_url())
                await expect(m.page.locator("body")).to_have_attribute("data-connected", "1", timeout=10_000)

            await asyncio.gather(*(arrive(m) for m in members))
            try:
                yield browser
            except BaseException:
                print("---- server log ----\n" + server.log_tail())
                raise
            for m in members:
                assert m.errors == [], f"errors in {m.username}'s browser: {m.errors}"
        finally:
            await browser.close()
