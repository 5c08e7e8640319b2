"""The reports pages, API and command as their users see them."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents.services import opening
from opsportal.audit.models import AuditEvent
from opsportal.reports.models import Report
from tests.reports.conftest import pdf_text

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def incident(users):
    return opening.incident_open(actor=users["operator1"], title="Feed gap", severity="SEV3")


def test_the_auditor_requests_an_incident_report_and_reads_both_files(client_for, incident):
    client = client_for("auditor")

    response = client.post(
        "/reports/request/", {"kind": "incident", "incident": incident.reference}
    )

    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/"
    page = client.get(f"/reports/{report.pk}/").content.decode()
    html = client.get(f"/reports/{report.pk}/report.html")
    pdf = client.get(f"/reports/{report.pk}/report.pdf")
    pdf_bytes = b"".join(pdf.streaming_content)
    assert "Done" in page and report.files.get(format="pdf").sha256 in page
    assert "sandbox" in html["Content-Security-Policy"]
    assert incident.reference in pdf_text(pdf_bytes)
    assert pdf["X-Content-SHA256"] == hashlib.sha256(pdf_bytes).hexdigest()


def test_downloads_are_audited_with_the_file_hash(client_for, incident):
    client = client_for("risk")
    client.post("/reports/request/", {"kind": "incident", "incident": incident.pk})
    report = Report.objects.get()

    b"".join(client.get(f"/reports/{report.pk}/report.pdf").streaming_content)

    event = AuditEvent.objects.get(event_type="report.downloaded")
    assert (event.actor_username, event.metadata["format"], event.metadata["sha256"]) == (
        "risk",
        "pdf",
        report.files.get(format="pdf").sha256,
    )


def test_a_bad_request_re_renders_the_form_with_the_reason_and_the_input(client_for):
    response = client_for("operator1").post(
        "/reports/request/", {"kind": "incident", "incident": "INC-19990101-999"}
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "No incident" in body and 'value="INC-19990101-999"' in body


def test_a_review_report_of_an_incident_without_review_is_refused_in_browser_and_api(
    client_for, incident
):
    client = client_for("operator1")

    page = client.post("/reports/request/", {"kind": "review", "incident": incident.pk})
    api = client.post(
        "/api/v1/reports/",
        {"kind": "review", "incident": str(incident.pk)},
        content_type="application/json",
    )

    assert page.status_code in (400, 404)
    assert "has no post-incident review yet" in page.content.decode()
    assert api.status_code == 404
    assert "has no post-incident review yet" in api.json()["error"]["message"]


def test_the_list_filters_by_kind(client_for, incident):
    client = client_for("operator1")
    client.post("/reports/request/", {"kind": "incident", "incident": incident.pk})
    client.post(
        "/reports/request/", {"kind": "monthly", "date_from": "2026-01-01", "date_to": "2026-01-31"}
    )

    body = client.get("/reports/?kind=monthly").content.decode()

    assert "Operations and compliance report 2026-01-01 – 2026-01-31" in body
    assert f"Incident report {incident.reference}" not in body


def test_the_api_requests_polls_and_downloads(client_for, incident):
    client = client_for("commander")

    created = client.post(
        "/api/v1/reports/",
        {"kind": "incident", "incident": incident.reference},
        content_type="application/json",
    )
    polled = client.get(f"/api/v1/reports/{created.json()['id']}/").json()
    html = client.get(polled["files"][0]["url"]) if polled["files"][0]["format"] == "html" else None
    html = html or client.get(polled["files"][1]["url"])

    assert created.status_code == 202
    assert polled["state"] == "done"
    body = b"".join(html.streaming_content)
    sha = {f["format"]: f["sha256"] for f in polled["files"]}
    assert hashlib.sha256(body).hexdigest() == sha["html"]


def test_a_user_without_a_role_gets_403_from_the_pages_and_the_api(client, incident):
    from tests.factories import UserFactory

    client.force_login(UserFactory())

    assert client.get("/reports/").status_code == 403
    assert client.get("/api/v1/reports/").status_code == 403


def test_the_command_queues_waits_and_prints_each_file_and_hash(users, incident):
    out = io.StringIO()

    call_command(
        "report_generate", "incident", "--incident", incident.reference, "--wait", stdout=out
    )

    report = Report.objects.get()
    lines = out.getvalue().splitlines()
    for f in report.files.all():
        assert any(line.startswith(f.sha256) and line.endswith(f.path) for line in lines)


def test_the_command_refuses_a_review_of_an_incident_without_one(users, incident):
    with pytest.raises(CommandError, match="has no post-incident review yet"):
        call_command("report_generate", "review", "--incident", str(incident.pk))


def test_the_incident_page_has_a_report_button_that_makes_an_incident_report(client_for, incident):
    client = client_for("commander")
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'action="/reports/request/"' in page and 'value="incident"' in page

    client.post("/reports/request/", {"kind": "incident", "incident": str(incident.pk)})

    assert Report.objects.get().kind == "incident"
