"""The auditor in a real browser: filters the trail to one incident, opens an event's
before/after, requests an export, downloads it when ready (it verifies), and sees the
last verification; an operator cannot reach the exports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from incidents import services as incident_services
from opsportal.audit.exports import verify_bundle
from opsportal.audit.services import audit_verify_run
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize("width", [1280, 375])
def test_the_auditor_follows_one_incident_and_exports_the_trail(
    new_page, login, users, width, tmp_path
):
    incident = incident_services.incident_open(
        actor=users["operator1"], title="Broker lag on paper", severity="SEV3"
    )
    incident_services.incident_open(actor=users["operator1"], title="Other", severity="SEV4")
    audit_verify_run(actor=None)
    page = new_page(viewport={"width": width, "height": 900})
    login(page, "auditor")

    page.goto("/audit/")
    verification = page.locator("#last-verification").inner_text()
    page.get_by_label("Object type").fill("incidents.incident")
    page.get_by_label("Object id").fill(str(incident.pk))
    # count() does not wait: let the filtered page load first.
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    rows = page.locator("tbody tr")
    rows.first.wait_for()
    row_count = rows.count()
    page.screenshot(path=str(ARTIFACTS / f"audit-list-{width}.png"), full_page=True)
    rows.first.get_by_role("link").first.click()
    page.get_by_role("heading", name="Before → after").wait_for()
    detail = page.content()
    page.screenshot(path=str(ARTIFACTS / f"audit-event-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")

    page.goto("/audit/exports/")
    now = timezone.now()
    page.get_by_label("From (UTC)").fill((now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("To (UTC)").fill((now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    # The request redirects back to this page: let that navigation finish before the
    # reload (a reload during it finds no page attached).
    with page.expect_navigation():
        page.get_by_role("button", name="Request export").click()
    page.reload()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").first.click()
    saved = tmp_path / "bundle.zip"
    download.value.save_as(saved)
    page.screenshot(path=str(ARTIFACTS / f"audit-exports-{width}.png"), full_page=True)

    assert "chain intact through seq" in verification
    assert row_count >= 1
    assert "Broker lag on paper" in detail and "Place in the chain" in detail
    assert overflow is False
    assert verify_bundle(Path(saved)).ok


def test_an_operator_cannot_reach_the_exports(new_page, login, users):
    page = new_page()
    login(page, "operator1")

    response = page.goto("/audit/exports/")

    assert response.status == 403
