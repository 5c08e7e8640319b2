"""Purging the audit trail past retention: four-eyes with two approvers from
risk_officer or admin besides the requester; afterwards the chain still verifies."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from opsportal.approvals.audit_purge import audit_purge_request
from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.services import approval_grant
from opsportal.audit import chain
from opsportal.audit.models import AuditEvent, AuditPurge
from opsportal.audit.services import audit_record
from opsportal.core.errors import DomainError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def record(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(actor=None, event_type="user.created", metadata={"i": i})


@pytest.fixture
def old_trail(settings):
    """Six events and a checkpoint at seq 6, all "past retention" (0 days); then two
    newer events the purge must keep."""
    record(6)
    anchor = chain.checkpoint_create()
    settings.AUDIT_RETENTION_DAYS = 0
    return anchor


def grant(request: ApprovalRequest, user, password: str) -> ApprovalRequest:
    return approval_grant(
        request_id=request.pk, actor=user, password=password, payload_sha256=request.payload_sha256
    )


def test_a_purge_needs_two_approvers_besides_the_requester_then_the_chain_verifies(
    users, password, old_trail
):
    second_risk = UserFactory(username="risk2", roles=["risk_officer"])
    request = audit_purge_request(actor=users["risk"], reason="7-year retention reached")
    record(2)  # after the request: newer than the cutoff, kept

    with pytest.raises(DomainError):
        grant(request, users["risk"], password)  # the requester
    after_one = grant(request, users["admin"], password)
    after_two = grant(request, second_risk, password)
    chain.audit_seal()

    assert after_one.status == ApprovalRequest.Status.PENDING
    assert after_two.status == ApprovalRequest.Status.EXECUTED, after_two.failure_reason
    assert AuditPurge.objects.get().through_seq == old_trail.last_seq
    assert not AuditEvent.objects.filter(seq__lte=old_trail.last_seq).exists()
    assert AuditEvent.objects.filter(event_type="audit.purged", seq__isnull=False).exists()
    result = chain.verify_chain()
    assert result.ok, result.message


def test_an_operator_cannot_request_a_purge(users, old_trail):
    with pytest.raises(DomainError):
        audit_purge_request(actor=users["operator1"], reason="tidy up")


def test_a_plain_delete_of_old_events_is_still_refused(users, old_trail):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent WHERE seq <= 6")


def test_the_purge_request_command_creates_the_four_eyes_request(users, old_trail, settings):
    settings.AUDIT_RETENTION_DAYS = -2  # today's events count as past retention: --before tomorrow
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date().isoformat()
    out = io.StringIO()

    call_command("audit_purge_request", "--before", tomorrow, "--as", "risk", stdout=out)

    request = ApprovalRequest.objects.get(action="audit_purge")
    assert request.status == ApprovalRequest.Status.PENDING
    assert request.requester == users["risk"]
    assert request.payload["through_seq"] == old_trail.last_seq
    assert f"Approval request #{request.pk}" in out.getvalue()


def test_the_purge_request_command_refuses_a_date_inside_retention(users, old_trail, settings):
    settings.AUDIT_RETENTION_DAYS = 365
    with pytest.raises(CommandError, match="retention"):
        call_command("audit_purge_request", "--before", "2999-01-01", "--as", "risk")
    assert not ApprovalRequest.objects.filter(action="audit_purge").exists()
