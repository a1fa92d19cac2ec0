"""WCAG 2.2 AA checks for the browser tests: axe-core (from tests/browser/axe, installed by
`make test` from its lock file) evaluated in the page by Playwright, plus the mobile-layout
check axe cannot make (nothing wider than the phone's screen).

`page.evaluate` runs the script through the browser's debugging protocol, so the site's strict
Content-Security-Policy (no inline scripts) stays in force for everything the page does."""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE_SCRIPT = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")


@cache
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        raise RuntimeError(f"{AXE_SCRIPT} is missing: run `make test` (or npm ci in its folder)")
    return AXE_SCRIPT.read_text()


def violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Serious and critical WCAG 2.2 A/AA violations on the page as it is now, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    results = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        WCAG_22_AA,
    )
    found = []
    for violation in results["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = [" ".join(node["target"]) for node in violation["nodes"]][:5]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} {targets}")
    return found


def overflow(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Elements that make the page scroll sideways on this screen (WCAG 1.4.10 Reflow); wide
    tables and charts sit in their own scrolling box, which is allowed."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= width) return [];
          return [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 1)
            .filter(e => !e.closest('.table-wrap, .chart-wrap'))
            .slice(0, 5)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                      + (e.className && typeof e.className === 'string' ? '.' + e.className : ''));
        }"""
    )


def check(page, name: str, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Add the page's accessibility problems to `problems`, each named by `name`."""
    problems.extend(f"{name}: {line}" for line in violations(page))
    wide = overflow(page)
    if wide:
        problems.append(f"{name}: wider than the screen because of {wide}")
