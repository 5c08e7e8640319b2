"""The post-incident review report and the incident report's review section,
generated in-process (eager Celery): the whys, root cause, action items, sign-offs
and content hash in the PDF's text; requests by review id or by incident."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from incidents.reviews.selectors import review_detail
from incidents.services import opening
from opsportal.core.errors import NotFound
from opsportal.reports.models import Report
from opsportal.reports.services import report_request
from opsportal.reports.storage import absolute
from tests.reports.conftest import pdf_text
from tests.reports.seed import ACTION_TITLE, ROOT_CAUSE, WHYS, approved_review

pytestmark = pytest.mark.django_db(transaction=True)


def _pdf(report: Report) -> str:
    report.refresh_from_db()
    assert (report.state, report.error) == ("done", "")
    return pdf_text(absolute(report.files.get(format="pdf").path).read_bytes())


def test_the_review_report_states_whys_root_cause_items_and_signoffs(users):
    review = approved_review(users)
    sha = review_detail(review).content_sha256

    report = report_request(kind="review", parameters={"review": review.pk}, actor=users["risk"])

    text = _pdf(report)
    for n, why in enumerate(WHYS, start=1):
        assert f"Why {n}: {why['question']}" in text
        assert why["answer"] in text
    assert f"Root cause: {ROOT_CAUSE}" in text
    assert ACTION_TITLE in text
    assert "No order-rate limit Risk" in text  # the factor and its control objective
    assert "Replay the day's rejects in staging." in text
    compact = text.replace(" ", "")
    assert compact.count(sha) >= 3  # the review's hash, and each sign-off signed it
    assert "Incident commander or risk officer risk" in text and "Second reviewer operator2" in text
    assert text.count("valid") >= 2
    # The runbook template order.
    order = ["Summary", "Impact", "Timeline excerpt", "Five whys", "Contributing factors"]
    order += ["What went well", "What went poorly", "Lessons learned", "Verification plan"]
    order += ["Action items", "Sign-offs"]
    positions = [text.rindex(f"{n}. {title}") for n, title in enumerate(order, start=2)]
    assert positions == sorted(positions)


def test_a_review_report_for_an_incident_takes_its_latest_revision(users):
    review = approved_review(users)

    report = report_request(
        kind="review", parameters={"incident": review.incident.reference}, actor=users["auditor"]
    )

    assert report.parameters == {"review": review.pk}
    assert review.incident.reference in _pdf(report)


def test_an_incident_without_a_review_has_no_review_report(users):
    incident = opening.incident_open(actor=users["operator1"], title="Feed gap", severity="SEV3")

    with pytest.raises(NotFound) as err:
        report_request(kind="review", parameters={"incident": incident.pk}, actor=users["risk"])

    assert "has no post-incident review yet" in err.value.message


def test_the_incident_report_shows_the_review_state_whys_and_action_items(users):
    review = approved_review(users)

    report = report_request(
        kind="incident", parameters={"incident": review.incident.pk}, actor=users["commander"]
    )

    text = _pdf(report)
    section = text.split("Post-incident review", 2)[-1]
    assert "Approved" in section
    assert WHYS[1]["answer"] in section and f"Root cause: {ROOT_CAUSE}" in section
    assert ACTION_TITLE in section


def test_the_incident_report_says_why_there_is_no_review(users):
    incident = opening.incident_open(actor=users["operator1"], title="Feed gap", severity="SEV3")

    report = report_request(
        kind="incident", parameters={"incident": incident.pk}, actor=users["operator1"]
    )

    assert "No post-incident review has been started. SEV3 needs no post-incident review." in (
        _pdf(report)
    )


def test_the_command_makes_a_review_report_by_incident_or_review(users, capsys):
    review = approved_review(users)

    call_command("report_generate", "review", "--incident", review.incident.reference, "--wait")
    call_command("report_generate", "review", "--review", str(review.pk), "--wait")

    reports = list(Report.objects.filter(kind="review", state="done"))
    assert len(reports) == 2 and all(r.parameters == {"review": review.pk} for r in reports)


def test_the_review_page_has_a_report_button_that_makes_a_review_report(users, client_for):
    review = approved_review(users)
    client = client_for("auditor")

    page = client.get(f"/incidents/reviews/{review.pk}/").content.decode()
    response = client.post("/reports/request/", {"kind": "review", "review": review.pk})

    assert f'name="review" value="{review.pk}"' in page and 'value="review"' in page
    report = Report.objects.get(kind="review")
    assert response.status_code == 302 and report.parameters == {"review": review.pk}


def test_the_api_requests_a_review_report(users, client_for):
    review = approved_review(users)

    response = client_for("risk").post(
        "/api/v1/reports/", {"kind": "review", "review": review.pk}, content_type="application/json"
    )

    assert response.status_code == 202
    assert response.json()["parameters"] == {"review": review.pk}
