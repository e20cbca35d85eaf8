"""axe-core (from npm, node_modules/axe-core) run in a page as it is: what a screen-reader or keyboard
user would stumble on. The pages' Content-Security-Policy refuses injected script tags, so the
library's text is evaluated through the DevTools protocol, which the policy does not govern."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

RUN = """async () => {
  // Also a rule axe still calls experimental: a control's name must contain its visible label.
  const rules = { "label-content-name-mismatch": { enabled: true } };
  const result = await axe.run(document, { resultTypes: ["violations"], rules });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


# A card sliding in is half transparent for a moment: what is checked is the page once it has settled.
SETTLED = """() => Promise.all(
  document.getAnimations()
    .filter((a) => a.effect?.getComputedTiming().iterations !== Infinity)
    .map((a) => a.finished.catch(() => null)),
)"""


async def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's findings on the page once its animations have ended, of every impact."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text())
    await page.evaluate(SETTLED)
    return await page.evaluate(RUN)


async def blocking_violations(page: Page) -> list[str]:
    """The serious and critical findings, one line each: `rule (impact): help: where`."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']}: {', '.join(v['nodes'][:5])}"
        for v in await violations(page)
        if v["impact"] in BLOCKING
    ]
