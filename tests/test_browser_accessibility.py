"""Every page in headless Chromium, checked by axe-core: no serious or critical accessibility violation,
and every chart named for a screen reader; in a browser that prefers a light colour scheme and in one that
prefers a dark one (Streamlit follows the browser, so each gets its own theme of .streamlit/config.toml).

axe-core is vendored in tests/vendor/axe-core (its README says which version and how to update it), so
the check needs no network. The pages are the ones app.py registers, read from its source rather than
imported (importing app.py would run the app).
"""

from __future__ import annotations

import ast
import json
import re

import pytest

from tests.pages import ROOT, assert_no_exception

AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
FAILING_IMPACTS = ("serious", "critical")
SHOWN_NODES = 5  # per violation in a failure message: enough to find the element, short enough to read
COLOR_SCHEMES = ("light", "dark")
# The page's background and text, as the browser computed them: read to make sure the theme asked for is
# the one checked (a light page checked twice would pass the dark run without looking at dark colours).
PAGE_COLOURS = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    const style = getComputedStyle(app);
    return [style.backgroundColor, style.color];
}"""


def registered_paths() -> list[str]:
    """The URL path of every page in app.py's `PAGES` list of (file, title, icon, url path)."""
    tree = ast.parse((ROOT / "app.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "PAGES" for target in node.targets):
            return ["/" + url_path for *_, url_path in ast.literal_eval(node.value)]
    raise AssertionError("app.py has no PAGES list")


# Runs in the page: axe's every rule (WCAG 2.x A and AA, and its best practices) over the whole document.
RUN_AXE = """async () => {
    const results = await axe.run(document, {resultTypes: ["violations"]});
    return results.violations.map((violation) => ({
        id: violation.id, impact: violation.impact, help: violation.help,
        nodes: violation.nodes.map((node) => ({target: node.target.join(" "), summary: node.failureSummary})),
    }));
}"""


def described(violations: list[dict]) -> str:
    """The violations, one paragraph each: rule, impact, what it asks, and the first elements that break it."""
    paragraphs = []
    for violation in violations:
        lines = [
            f"{violation['id']} ({violation['impact']}): {violation['help']}, {len(violation['nodes'])} element(s)"
        ]
        for node in violation["nodes"][:SHOWN_NODES]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"  - {node['target']}: {summary[:300]}")
        paragraphs.append("\n".join(lines))
    return "\n".join(paragraphs)


def relative_luminance(css_colour: str) -> float:
    """WCAG's relative luminance (0 black, 1 white) of a computed ``rgb(r, g, b)`` or ``rgba(...)`` colour."""
    channels = [float(part) / 255 for part in re.findall(r"[\d.]+", css_colour)[:3]]
    assert len(channels) == 3, css_colour
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_relative_luminance():
    assert relative_luminance("rgb(255, 255, 255)") == pytest.approx(1.0)
    assert relative_luminance("rgba(0, 0, 0, 1)") == 0.0
    assert relative_luminance("rgb(23, 22, 20)") < 0.01  # the dark theme's page


def assert_theme(tab, scheme: str, path: str) -> None:
    """The page is drawn in the theme of `scheme`: a dark page with light text, or the other way round."""
    background, text = (relative_luminance(colour) for colour in tab.evaluate(PAGE_COLOURS))
    dark_page = background < 0.05 and text > 0.6
    light_page = background > 0.9 and text < 0.05
    assert dark_page if scheme == "dark" else light_page, (
        f"{path} asked for {scheme}: background luminance {background:.3f}, text {text:.3f}"
    )


def test_every_page_of_app_py_is_checked():
    paths = registered_paths()
    assert paths[0] == "/" and "/gates" in paths and "/your-model" in paths
    assert len(paths) == len(set(paths)) >= 12


def test_the_vendored_axe_is_the_documented_version():
    assert AXE.read_text()[:40].startswith(f"/*! axe v{AXE_VERSION}")
    assert (AXE.parent / "LICENSE").read_text().startswith("Mozilla Public License, version 2.0")


def test_the_report_names_the_rule_and_the_element():
    report = described([{"id": "color-contrast", "impact": "serious", "help": "Elements must meet contrast",
                         "nodes": [{"target": ".stCaption p", "summary": "Fix any of the following:\n  ratio 3.1"}]}])  # fmt: skip
    assert report == ("color-contrast (serious): Elements must meet contrast, 1 element(s)\n"
                      "  - .stCaption p: Fix any of the following: ratio 3.1")  # fmt: skip


@pytest.mark.browser
@pytest.mark.parametrize("scheme", COLOR_SCHEMES)
@pytest.mark.parametrize("path", registered_paths())
def test_a_page_has_no_serious_accessibility_violation(page, path, scheme):
    page.emulate_media(color_scheme=scheme)  # before the app loads: it picks its theme from the browser then
    tab = page.open(path)
    assert_no_exception(tab)
    assert_theme(tab, scheme, path)
    tab.add_script_tag(path=str(AXE))
    violations = tab.evaluate(RUN_AXE)
    failing = [violation for violation in violations if violation["impact"] in FAILING_IMPACTS]
    assert not failing, f"axe-core {AXE_VERSION} on {path} in the {scheme} theme:\n{described(failing)}"

    charts = tab.locator("[data-testid='stPlotlyChart']")
    unnamed = charts.evaluate_all(
        "(charts) => charts.filter((chart) => !(chart.getAttribute('aria-label') || '').trim()).length"
    )
    assert unnamed == 0, f"{unnamed} of {charts.count()} charts on {path} have no text alternative"


@pytest.mark.browser
def test_the_check_finds_a_violation(page):
    """Text that breaks the contrast rule, added to a page, is reported as serious: the check can fail."""
    tab = page.open("/glossary")
    tab.add_script_tag(path=str(AXE))
    tab.evaluate("""() => {
        const faint = document.createElement("p");
        faint.textContent = "Faint grey text on white";
        faint.style.cssText = "color: #d8d8d8; background: #ffffff";
        document.querySelector("[data-testid='stMainBlockContainer']").prepend(faint);  // among the page's own text: axe skips what lies outside it
    }""")
    violations = tab.evaluate(RUN_AXE)
    contrast = [violation for violation in violations if violation["id"] == "color-contrast"]
    assert contrast and contrast[0]["impact"] in FAILING_IMPACTS, json.dumps(violations)[:2000]
