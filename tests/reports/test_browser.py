"""In a real browser, with a real Celery worker: the risk officer requests the
monthly report, watches it finish, opens the HTML (its charts are drawn), downloads
the PDF; the incident page's "Incident report" button makes an incident report."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from incidents.services import opening
from opsportal.reports.models import Report
from tests.reports.conftest import pdf_text
from tests.reports.seed import seed_monthly

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("REPORTS_SHOTS", "test-artifacts"))


def test_risk_requests_the_monthly_report_watches_it_finish_and_files_it(
    users, new_page, login, report_worker
):
    seed = seed_monthly(users)
    report_worker()
    page = new_page()
    login(page, "risk")

    page.get_by_role("link", name="Reports").click()
    page.get_by_label("Report", exact=True).select_option("monthly")
    page.get_by_label("From", exact=True).fill(seed.start.isoformat())
    page.get_by_label("To", exact=True).fill(seed.end.isoformat())
    page.get_by_role("button", name="Request report").click()
    page.wait_for_url("**/reports/*/")
    page.get_by_text("Done", exact=True).wait_for(timeout=60_000)  # the page reloads itself
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "report-detail.png", full_page=True)

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Open HTML").click()
    html = opened.value
    html.wait_for_load_state()
    charts = html.locator("img.chart")
    assert charts.count() >= 2
    assert html.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    html.screenshot(path=SHOTS / "report-html.png", full_page=False)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    text = pdf_text(Path(download.value.path()).read_bytes())
    total = sum(seed.counts.values())
    assert f"{total} incidents detected" in text
    assert Report.objects.get().files.get(format="pdf").sha256 in page.content()


def test_the_incident_page_button_produces_an_incident_report(
    users, new_page, login, report_worker
):
    incident = opening.incident_open(actor=users["operator1"], title="Feed gap", severity="SEV3")
    report_worker()
    page = new_page(viewport={"width": 375, "height": 800})
    login(page, "commander")

    page.goto(f"/incidents/{incident.pk}/")
    page.get_by_role("button", name="Incident report").click()
    page.get_by_text("Done", exact=True).wait_for(timeout=60_000)
    page.screenshot(path=SHOTS / "report-detail-375.png", full_page=True)

    report = Report.objects.get()
    assert (report.kind, report.parameters) == ("incident", {"incident": incident.pk})
    assert page.get_by_role("link", name="Download PDF").is_visible()
