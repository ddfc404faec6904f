"""The HTML report leads with what broke: checked as markup, and in a real headless chromium (filters, anchors,
the failures-first layout, nothing fetched from the network)."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from conformance import Target, run
from conformance.model import Check, Level, Result, Status
from conformance.report import render_html
from conformance.runner import Run
from conformance.suites import default_registry
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer
from tests.conformance.breakers_idp import BREAKERS
from tests.conformance.browser import chromium
from tests.conformance.faulty import Faulty, State

ROOT = "entra-create-group"
BLOCKED = "sync-entra-initial-cycle"
PASSING = "rfc7644-3.4.2.2-filter-eq"
HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


def _run(reference: tuple[Any, str]) -> Run:
    """A real run against a server that refuses Entra's group schema, plus one hostile result."""
    app, token = reference
    registry = default_registry()
    wanted = {ROOT, "entra-create-user", BLOCKED, PASSING, "rfc7644-3.4.2.2-filter-co"}
    checks = [item for item in registry if item.id in wanted or item.id.startswith(("rfc7644-4-", "rfc7644-3.9"))]
    faulty = Faulty(app, BREAKERS[ROOT], State(token=token, memory={"app": app}))
    outcome = run(checks, Target(IN_PROCESS_SCIM_URL, Bearer(token), app=faulty), jobs=4)
    hostile = Check(id="custom-hostile", title=HOSTILE, level=Level.SHOULD, suite="custom", ref=HOSTILE, fn=print)
    outcome.results.append(Result(hostile, Status.WARN, reason=HOSTILE, expected=HOSTILE, actual=HOSTILE))
    return outcome


class Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))


def test_the_markup_has_one_anchor_per_check_escapes_everything_and_links_the_sources(
    reference: tuple[Any, str],
) -> None:
    outcome = _run(reference)
    page = render_html(outcome)
    markup = Markup()
    markup.feed(page)
    anchors = [value for value in markup.ids if value.startswith("check-")]
    assert sorted(anchors) == sorted(f"check-{result.check.id}" for result in outcome.results)
    assert len(markup.ids) == len(set(markup.ids))
    assert markup.tags.count("script") == 1 and markup.tags.count("img") == 0  # only the report's own script
    assert "window.pwned" in page and "<script>window.pwned" not in page
    assert "https://www.rfc-editor.org/rfc/rfc7644#section-3.4.2.2" in markup.links
    assert all(link.startswith(("#check-", "https://")) for link in markup.links)  # nothing else is linked
    page_without_hostile = page.replace(escape(HOSTILE), "").replace(escape(HOSTILE, quote=False), "")
    assert "<link" not in page_without_hostile and " src=" not in page_without_hostile  # no external assets


def _displayed(driver: WebDriver) -> list[str]:
    return [
        element.get_attribute("id") or ""
        for element in driver.find_elements(By.CSS_SELECTOR, ".check")
        if element.is_displayed()
    ]


def _in_first_screen(driver: WebDriver, selector: str) -> bool:
    """Whether the element's top is inside the viewport (``#id`` selectors are looked up by id: check ids
    hold dots)."""
    lookup = (
        "document.getElementById(arguments[0].slice(1))"
        if selector.startswith("#") and " " not in selector
        else "document.querySelector(arguments[0])"
    )
    return bool(
        driver.execute_script(
            f"var r = {lookup}.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight;",
            selector,
        )
    )


def test_in_a_browser_the_report_leads_with_failures_filters_and_follows_anchors(
    reference: tuple[Any, str], tmp_path: Path
) -> None:
    outcome = _run(reference)
    path = tmp_path / "report.html"
    path.write_text(render_html(outcome), encoding="utf-8")
    url = path.as_uri()
    total = len(outcome.results)
    with chromium() as driver:
        driver.get(url)
        # the verdict, the causes and the first failure are on the first screen
        assert "NOT CONFORMANT" in driver.find_element(By.ID, "verdict").text
        assert _in_first_screen(driver, "#verdict") and _in_first_screen(driver, "#causes")
        first = driver.find_element(By.CSS_SELECTOR, "#broken .check")
        assert first.get_attribute("id") == f"check-{ROOT}" and _in_first_screen(driver, "#broken .check")
        assert first.get_attribute("open") is not None  # a failure is open
        failing = driver.find_elements(By.CSS_SELECTOR, f"#check-{ROOT} .exchange.failing")
        assert len(failing) == 1 and failing[0].get_attribute("open") is not None
        assert "400" in failing[0].find_element(By.TAG_NAME, "summary").text
        blocked = driver.find_element(By.ID, f"check-{BLOCKED}")
        assert "BLOCKED" in blocked.text and f"#check-{ROOT}" in blocked.get_attribute("innerHTML")
        assert driver.execute_script("return window.pwned") is None  # nothing hostile ran
        assert driver.find_element(By.ID, "shown").text == f"{total} of {total} checks shown"

        # filters: status, suite, level, tag and text each narrow what is shown, and the count follows
        driver.find_element(By.CSS_SELECTOR, "input[name=status][value=PASS]").click()
        shown = _displayed(driver)
        assert shown and all(f"check-{r.check.id}" in shown for r in outcome.results if r.status is not Status.PASS)
        assert f"check-{PASSING}" not in shown
        assert driver.find_element(By.ID, "shown").text == f"{len(shown)} of {total} checks shown"
        driver.find_element(By.CSS_SELECTOR, "input[name=status][value=PASS]").click()
        Select(driver.find_element(By.NAME, "suite")).select_by_value("sync")
        assert _displayed(driver) == [f"check-{BLOCKED}"]
        Select(driver.find_element(By.NAME, "suite")).select_by_value("")
        Select(driver.find_element(By.NAME, "level")).select_by_value("SHOULD")
        assert all(
            r.check.level is Level.SHOULD for r in outcome.results if f"check-{r.check.id}" in _displayed(driver)
        )
        Select(driver.find_element(By.NAME, "level")).select_by_value("")
        Select(driver.find_element(By.NAME, "tag")).select_by_value("projection")
        tagged = [f"check-{r.check.id}" for r in outcome.results if "projection" in r.check.tags]
        assert tagged and _displayed(driver) == tagged
        Select(driver.find_element(By.NAME, "tag")).select_by_value("")
        driver.find_element(By.NAME, "text").send_keys("filter-co")
        assert _displayed(driver) == ["check-rfc7644-3.4.2.2-filter-co"]

        # an anchor opens its check and scrolls it into view, even a passing one far down
        driver.get(f"{url}#check-{PASSING}")
        target = driver.find_element(By.ID, f"check-{PASSING}")
        assert target.get_attribute("open") is not None and _in_first_screen(driver, f"#check-{PASSING}")
        # offline: the page fetched nothing
        assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
