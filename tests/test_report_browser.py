"""The report in a real headless Chromium with the network off: every chart draws, nothing is fetched, no console error."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from synthkit.report import build_report
from tests.report_inputs import CHARTS, write_run

sync_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SYNTHKIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (Debian: apt-get install chromium)")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def open_report(browser, path: Path) -> dict:
    """Load a page offline with every non-file request refused; return what the browser saw."""
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    requests, console = [], []
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else (requests.append(route.request.url), route.abort()))
    page = context.new_page()
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("body[data-charts-drawn]", timeout=60_000)
    seen = {
        "declared": int(page.get_attribute("body", "data-charts")),
        "drawn": page.locator("[data-chart] > svg.marks").count(),
        "failed": page.locator(".chart.failed").count(),
        "marks": page.locator("[data-chart] svg.marks path, [data-chart] svg.marks rect").count(),
        "requests": requests,
        "console": console,
    }
    context.close()
    return seen


def test_every_chart_draws_offline(browser, tmp_path):
    out = tmp_path / "report.html"
    out.write_text(build_report(write_run(tmp_path / "reports")).html, encoding="utf-8")
    seen = open_report(browser, out)
    assert seen["requests"] == [] and seen["console"] == []
    assert seen["declared"] == seen["drawn"] == CHARTS and seen["failed"] == 0
    assert seen["marks"] > 4 * CHARTS  # the charts hold bars, cells and points, not just empty frames


@pytest.mark.parametrize("where", ["reports", "examples/extraction/reports", "examples/rewrite/reports", "examples/summarization/reports"])
def test_bundled_runs_draw_offline(browser, tmp_path, where):
    src = REPO / where
    if not (src / "metrics.json").exists():
        pytest.skip(f"no {src}")
    report = build_report(src)
    out = tmp_path / "report.html"
    out.write_text(report.html, encoding="utf-8")
    seen = open_report(browser, out)
    assert seen["requests"] == [] and seen["console"] == []
    assert seen["declared"] == seen["drawn"] == report.charts > 0 and seen["failed"] == 0
