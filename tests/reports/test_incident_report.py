"""The incident report, generated in-process (eager Celery): its files, their hashes,
and the figures in the PDF's text."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.services import lifecycle, opening
from opsportal.reports.services import report_request
from opsportal.reports.storage import absolute
from tests.incidents.factories import publish_playbook
from tests.reports.conftest import pdf_text

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def incident(users):
    playbook = publish_playbook()
    detected = timezone.now() - timedelta(minutes=30)
    inc = opening.incident_open(
        actor=users["operator1"],
        title="Broker session dropped",
        severity="SEV2",
        playbook_slug=playbook.procedure.slug,
        detected_at=detected,
    )
    lifecycle.incident_acknowledge(actor=users["commander"], incident=inc)
    return inc


def test_an_incident_report_has_an_html_and_a_pdf_whose_hashes_match_the_files(users, incident):
    report = report_request(
        kind="incident", parameters={"incident": incident.reference}, actor=users["operator1"]
    )

    report.refresh_from_db()
    files = {f.format: f for f in report.files.all()}
    assert report.state == "done"
    assert set(files) == {"html", "pdf"}
    for f in files.values():
        data = absolute(f.path).read_bytes()
        assert (f.sha256, f.size) == (hashlib.sha256(data).hexdigest(), len(data))


def test_the_incident_pdf_states_reference_severity_tta_and_the_html_hash(users, incident):
    incident.refresh_from_db()
    tta_minutes = int((incident.acknowledged_at - incident.detected_at).total_seconds() // 60)

    report = report_request(
        kind="incident", parameters={"incident": str(incident.pk)}, actor=users["auditor"]
    )

    html, pdf = (report.files.get(format=f) for f in ("html", "pdf"))
    text = pdf_text(absolute(pdf.path).read_bytes())
    assert incident.reference in text
    assert "SEV2 (P1) High" in text
    assert f"Time to acknowledge (TTA) {tta_minutes} min" in text
    assert "SLA breached" in text  # 30 minutes against a 15-minute SLA
    assert f"HTML SHA-256: {html.sha256}" in text
    assert "Page 1 of" in text
