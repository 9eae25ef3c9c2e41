"""Every page in headless Chromium, checked by axe-core: no serious or critical accessibility violation,
and every chart named for a screen reader.

axe-core is vendored in tests/vendor/axe-core (its README says which version and how to update it), so
the check needs no network. The pages are the ones app.py registers, read from its source rather than
imported (importing app.py would run the app).
"""

from __future__ import annotations

import ast
import json

import pytest

from tests.pages import ROOT, assert_no_exception

AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
FAILING_IMPACTS = ("serious", "critical")
SHOWN_NODES = 5  # per violation in a failure message: enough to find the element, short enough to read


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
@pytest.mark.parametrize("path", registered_paths())
def test_a_page_has_no_serious_accessibility_violation(page, path):
    tab = page.open(path)
    assert_no_exception(tab)
    tab.add_script_tag(path=str(AXE))
    violations = tab.evaluate(RUN_AXE)
    failing = [violation for violation in violations if violation["impact"] in FAILING_IMPACTS]
    assert not failing, f"axe-core {AXE_VERSION} on {path}:\n{described(failing)}"

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
