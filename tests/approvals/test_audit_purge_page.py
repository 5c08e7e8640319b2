"""The audit retention and purge page (/approvals/audit-purge/): what a purge would
delete and keep, and the form that opens the four-eyes `audit_purge` request."""

from __future__ import annotations

import pytest
from django.db import transaction

from opsportal.approvals.models import ApprovalRequest
from opsportal.audit import chain
from opsportal.audit.models import AuditEvent
from opsportal.audit.services import audit_record

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/approvals/audit-purge/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def old_trail(settings):
    """Four events closed by a checkpoint, all past a retention of 0 days."""
    for i in range(4):
        with transaction.atomic():
            audit_record(actor=None, event_type="user.created", metadata={"i": i})
    anchor = chain.checkpoint_create()
    settings.AUDIT_RETENTION_DAYS = 0
    return anchor


def test_the_page_shows_what_a_purge_would_delete_and_keep(client_for, old_trail):
    client = client_for("risk")
    past = AuditEvent.objects.count()  # every event is older than a 0-day retention

    page = client.get(URL).content.decode()

    assert f"checkpoint {old_trail.pk} at seq {old_trail.last_seq}" in page
    assert f'data-testid="past-retention">{past}<' in page


def test_requesting_a_purge_opens_the_four_eyes_request(client_for, users, old_trail):
    response = client_for("risk").post(URL, {"reason": "7 years reached", "confirm": "on"})

    request = ApprovalRequest.objects.get(action="audit_purge")
    assert response.status_code == 302
    assert response["Location"] == f"/approvals/{request.pk}/"
    assert request.requester == users["risk"]
    assert request.payload["through_seq"] == old_trail.last_seq


def test_a_purge_without_the_confirmation_is_refused_keeping_the_reason(client_for, old_trail):
    response = client_for("risk").post(URL, {"reason": "7 years reached"})

    page = response.content.decode()
    assert response.status_code == 400
    assert "Tick the box to confirm the purge is meant." in page
    assert "7 years reached" in page
    assert not ApprovalRequest.objects.filter(action="audit_purge").exists()


def test_a_date_inside_retention_is_refused_on_the_form(client_for, settings, old_trail):
    settings.AUDIT_RETENTION_DAYS = 365

    response = client_for("risk").post(
        URL, {"cutoff": "2999-01-01", "reason": "tidy", "confirm": "on"}
    )

    assert response.status_code == 400
    assert "inside the retention period" in response.content.decode()
    assert not ApprovalRequest.objects.filter(action="audit_purge").exists()


def test_with_nothing_past_retention_the_page_says_nothing_may_be_purged(client_for, settings):
    settings.AUDIT_RETENTION_DAYS = 365

    page = client_for("risk").get(URL).content.decode()

    assert "nothing may be purged" in page


@pytest.mark.parametrize("username", ["operator1", "commander", "auditor"])
def test_other_roles_cannot_reach_the_page(client_for, username, old_trail):
    assert client_for(username).get(URL).status_code == 403


def test_the_audit_page_links_to_it_for_those_who_may_purge(client_for, old_trail):
    assert URL in client_for("risk").get("/audit/").content.decode()
    assert URL not in client_for("auditor").get("/audit/").content.decode()
