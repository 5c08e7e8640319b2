"""The four-eyes rules, through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsportal.approvals.models import Approval, ApprovalPolicy, ApprovalRequest
from opsportal.approvals.services import (
    approval_cancel,
    approval_grant,
    approval_policy_save,
    approval_reject,
    approval_request_amend,
    approval_request_create,
    approvals_expire_due,
    payload_sha256,
)
from opsportal.audit.models import AuditEvent
from opsportal.core.errors import Conflict, NotPermitted, ValidationFailed
from tests.approvals.factories import ApprovalPolicyFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def executions() -> int:
    return AuditEvent.objects.filter(event_type="approvals_test.executed").count()


def refusals(code: str) -> int:
    return AuditEvent.objects.filter(event_type="approval.refused", metadata__code=code).count()


def grant(request, user, password, **kwargs):
    return approval_grant(
        request_id=request.pk,
        actor=user,
        password=password,
        payload_sha256=kwargs.pop("payload_sha256", request.payload_sha256),
        **kwargs,
    )


def test_approval_request_keeps_the_preconditions_evaluated_at_request_and_execution(
    make_request, users, password, target
):
    request = make_request()
    target.is_active = False  # the precondition now fails: execution records that
    target.save(update_fields=["is_active"])

    grant(request, users["operator2"], password)

    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.FAILED
    assert [(c["code"], c["passed"]) for c in request.preconditions_at_request] == [
        ("target_active", True),
        ("not_blocked", True),
    ]
    assert [(c["code"], c["passed"]) for c in request.preconditions_at_execution] == [
        ("target_active", False),
        ("not_blocked", True),
    ]


def test_approval_request_create_freezes_payload_and_snapshots_policy(make_request, users):
    request = make_request(payload={"b": 2, "a": [1, "x"]})

    assert request.status == ApprovalRequest.Status.PENDING
    assert request.payload_sha256 == payload_sha256({"a": [1, "x"], "b": 2})
    assert request.approvals_required == 1
    assert request.eligible_groups == ["operator", "risk_officer"]
    assert timedelta(seconds=3590) < request.expires_at - timezone.now() <= timedelta(seconds=3600)
    assert request.requester == users["operator1"]
    assert request.target_repr == "target-user"
    assert AuditEvent.objects.filter(event_type="approval.requested").count() == 1


def test_approval_request_create_requires_a_reason(make_request):
    with pytest.raises(ValidationFailed) as exc:
        make_request(reason="  ")

    assert exc.value.field == "reason"
    assert ApprovalRequest.objects.count() == 0


def test_approval_request_create_refuses_failed_preconditions_and_audits(make_request):
    with pytest.raises(Conflict) as exc:
        make_request(payload={"block": True})

    assert exc.value.code == "preconditions_failed"
    assert "Payload is not blocked" in exc.value.message
    assert "Target user is active" not in exc.value.message
    assert ApprovalRequest.objects.count() == 0
    assert refusals("preconditions_failed") == 1


def test_approval_request_create_refuses_a_second_open_request_for_the_same_target(make_request):
    make_request()

    with pytest.raises(Conflict) as exc:
        make_request(requester="operator2")

    assert exc.value.code == "already_pending"
    assert ApprovalRequest.objects.count() == 1


def test_approval_request_create_unknown_action_is_a_validation_error(users, target):
    with pytest.raises(ValidationFailed) as exc:
        approval_request_create(
            action="nope", target=target, reason="r", payload={}, actor=users["operator1"]
        )

    assert (exc.value.code, exc.value.field) == ("unknown_action", "action")


def test_approval_grant_by_eligible_other_user_executes(make_request, users, password, target):
    request = make_request()

    result = grant(request, users["operator2"], password, comment="looks right")

    assert result.status == ApprovalRequest.Status.EXECUTED
    assert result.result == {"executed_for": "target-user"}
    assert executions() == 1
    target.refresh_from_db()
    assert target.first_name == "executed"
    assert list(
        AuditEvent.objects.filter(object_id=str(request.pk), event_type__startswith="approval.")
        .order_by("id")
        .values_list("event_type", flat=True)
    ) == ["approval.requested", "approval.granted", "approval.executing", "approval.executed"]


def test_approval_grant_self_approval_is_refused_and_audited(make_request, users, password):
    request = make_request()

    with pytest.raises(NotPermitted) as exc:
        grant(request, users["operator1"], password)

    assert exc.value.code == "self_approval"
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.PENDING
    assert Approval.objects.count() == 0
    event = AuditEvent.objects.get(event_type="approval.refused")
    assert (event.actor, event.object_id, event.metadata["code"]) == (
        users["operator1"],
        str(request.pk),
        "self_approval",
    )


def test_approval_grant_self_approval_refused_even_when_requester_is_eligible_risk(
    users, policy, target, password
):
    request = approval_request_create(
        action="test_action", target=target, reason="r", payload={}, actor=users["risk"]
    )

    with pytest.raises(NotPermitted):
        grant(request, users["risk"], password)

    assert executions() == 0


def test_approval_grant_wrong_password_is_refused(make_request, users):
    request = make_request()

    with pytest.raises(NotPermitted) as exc:
        grant(request, users["operator2"], "wrong")

    assert (exc.value.code, exc.value.field) == ("password_incorrect", "password")
    assert Approval.objects.count() == 0
    assert refusals("password_incorrect") == 1


def test_approval_grant_user_outside_eligible_groups_is_refused(make_request, users, password):
    request = make_request()

    with pytest.raises(NotPermitted) as exc:
        grant(request, users["auditor"], password)

    assert exc.value.code == "not_eligible"
    assert refusals("not_eligible") == 1
    assert executions() == 0


def test_approval_grant_same_approver_twice_counts_once(users, target, password):
    ApprovalPolicyFactory(approvals_required=2)
    request = approval_request_create(
        action="test_action", target=target, reason="r", payload={}, actor=users["operator1"]
    )
    grant(request, users["operator2"], password)

    with pytest.raises(Conflict) as exc:
        grant(request, users["operator2"], password)

    assert exc.value.code == "already_decided"
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.PENDING
    assert Approval.objects.filter(request=request).count() == 1
    assert executions() == 0


def test_approval_unique_constraint_refuses_a_direct_second_row(make_request, users):
    request = make_request()
    fields = {
        "request": request,
        "approver": users["operator2"],
        "decision": Approval.Decision.APPROVE,
        "payload_sha256": request.payload_sha256,
        "payload_revision": request.payload_revision,
        "at": timezone.now(),
    }
    Approval.objects.create(**fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.create(**fields)

    assert Approval.objects.filter(request=request).count() == 1


def test_approval_grant_second_approver_reaches_threshold_two(users, target, password):
    ApprovalPolicyFactory(approvals_required=2)
    request = approval_request_create(
        action="test_action", target=target, reason="r", payload={}, actor=users["operator1"]
    )

    first = grant(request, users["operator2"], password)
    assert (first.status, executions()) == (ApprovalRequest.Status.PENDING, 0)
    second = grant(request, users["risk"], password)

    assert second.status == ApprovalRequest.Status.EXECUTED
    assert executions() == 1


def test_approval_reject_vetoes_and_is_final(users, target, password):
    ApprovalPolicyFactory(approvals_required=2)
    request = approval_request_create(
        action="test_action", target=target, reason="r", payload={}, actor=users["operator1"]
    )
    grant(request, users["operator2"], password)

    rejected = approval_reject(
        request_id=request.pk, actor=users["risk"], reason="not today", password=password
    )

    assert rejected.status == ApprovalRequest.Status.REJECTED
    assert rejected.closed_reason == "not today"
    with pytest.raises(Conflict) as exc:
        grant(request, users["commander"], password)
    assert exc.value.code == "rejected"
    assert executions() == 0


def test_approval_reject_by_requester_is_refused(make_request, users, password):
    request = make_request()

    with pytest.raises(NotPermitted) as exc:
        approval_reject(
            request_id=request.pk, actor=users["operator1"], reason="x", password=password
        )

    assert exc.value.code == "self_approval"


def test_approval_reject_needs_password_and_reason(make_request, users, password):
    request = make_request()

    with pytest.raises(NotPermitted):
        approval_reject(request_id=request.pk, actor=users["risk"], reason="x", password="bad")
    with pytest.raises(ValidationFailed) as exc:
        approval_reject(request_id=request.pk, actor=users["risk"], reason="", password=password)

    assert exc.value.field == "reason"
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.PENDING


def test_approval_grant_on_expired_request_marks_it_expired(make_request, users, password):
    request = make_request()
    ApprovalRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    with pytest.raises(Conflict) as exc:
        grant(request, users["operator2"], password)

    assert exc.value.code == "expired"
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.EXPIRED
    assert Approval.objects.count() == 0
    assert executions() == 0
    assert refusals("expired") == 1
    assert AuditEvent.objects.filter(event_type="approval.expired").count() == 1


def test_approval_cancel_by_requester_then_grant_is_refused(make_request, users, password):
    request = make_request()

    cancelled = approval_cancel(request_id=request.pk, actor=users["operator1"], reason="typo")

    assert cancelled.status == ApprovalRequest.Status.CANCELLED
    with pytest.raises(Conflict) as exc:
        grant(request, users["operator2"], password)
    assert exc.value.code == "cancelled"
    assert executions() == 0


def test_approval_cancel_by_the_system_and_twice_is_a_no_op(make_request):
    request = make_request()

    approval_cancel(request_id=request.pk, actor=None, reason="kill switch triggered again")
    again = approval_cancel(request_id=request.pk, actor=None, reason="again")

    assert again.status == ApprovalRequest.Status.CANCELLED
    assert again.closed_reason == "kill switch triggered again"
    assert AuditEvent.objects.filter(event_type="approval.cancelled").count() == 1


def test_approval_cancel_by_someone_else_is_refused(make_request, users):
    request = make_request()

    with pytest.raises(NotPermitted) as exc:
        approval_cancel(request_id=request.pk, actor=users["operator2"], reason="mine now")

    assert exc.value.code == "not_requester"


def test_approval_grant_with_a_stale_payload_hash_is_refused(make_request, users, password):
    request = make_request(payload={"size": 1})
    seen = request.payload_sha256
    approval_request_amend(request_id=request.pk, actor=users["operator1"], payload={"size": 9})

    with pytest.raises(Conflict) as exc:
        grant(request, users["operator2"], password, payload_sha256=seen)

    assert (exc.value.code, exc.value.field) == ("payload_changed", "payload_sha256")
    assert executions() == 0


def test_approval_request_amend_voids_earlier_approvals(users, target, password):
    ApprovalPolicyFactory(approvals_required=2)
    request = approval_request_create(
        action="test_action",
        target=target,
        reason="r",
        payload={"size": 1},
        actor=users["operator1"],
    )
    grant(request, users["operator2"], password)

    amended = approval_request_amend(
        request_id=request.pk, actor=users["operator1"], payload={"size": 2}
    )
    after_one = grant(amended, users["risk"], password)

    assert amended.payload_revision == 2
    assert after_one.status == ApprovalRequest.Status.PENDING
    assert executions() == 0
    executed = grant(amended, users["operator2"], password)  # re-approves the new payload
    assert executed.status == ApprovalRequest.Status.EXECUTED
    assert executed.payload == {"size": 2}


def test_approval_request_amend_by_someone_else_is_refused(make_request, users):
    request = make_request()

    with pytest.raises(NotPermitted):
        approval_request_amend(request_id=request.pk, actor=users["operator2"], payload={"x": 1})

    request.refresh_from_db()
    assert request.payload == {"size": 1}


def test_approval_grant_precondition_failing_at_execution_gives_failed(
    make_request, users, password, target
):
    request = make_request()
    type(target).objects.filter(pk=target.pk).update(is_active=False)

    result = grant(request, users["operator2"], password)

    assert result.status == ApprovalRequest.Status.FAILED
    assert "Target user is active" in result.failure_reason
    assert executions() == 0
    assert Approval.objects.filter(request=request).count() == 1  # the approval stays
    target.refresh_from_db()
    assert target.first_name != "executed"


def test_approval_grant_execute_raising_domain_error_gives_failed_and_rolls_back_writes(
    make_request, users, password, target
):
    request = make_request(payload={"explode": True})

    result = grant(request, users["operator2"], password)

    assert result.status == ApprovalRequest.Status.FAILED
    assert result.failure_reason == "The venue refused the change."
    target.refresh_from_db()
    assert target.first_name != "executed"
    assert AuditEvent.objects.filter(event_type="approval.failed").count() == 1


def test_approval_grant_after_execution_is_refused(make_request, users, password):
    request = make_request()
    grant(request, users["operator2"], password)

    with pytest.raises(Conflict) as exc:
        grant(request, users["risk"], password)

    assert exc.value.code == "already_executed"
    assert executions() == 1


def test_policy_changed_after_creation_does_not_change_a_pending_request(
    make_request, users, password
):
    request = make_request()
    approval_policy_save(
        actor=users["admin"],
        action="test_action",
        approvals_required=3,
        eligible_groups=["risk_officer"],
        expiry_seconds=60,
    )

    result = grant(request, users["operator2"], password)

    assert result.status == ApprovalRequest.Status.EXECUTED
    assert ApprovalPolicy.objects.get(action="test_action").approvals_required == 3


def test_policy_loosened_after_creation_does_not_unlock_a_pending_request(users, target, password):
    ApprovalPolicyFactory(approvals_required=2, eligible_groups=["risk_officer"])
    request = approval_request_create(
        action="test_action", target=target, reason="r", payload={}, actor=users["operator1"]
    )
    approval_policy_save(
        actor=users["admin"],
        action="test_action",
        approvals_required=1,
        eligible_groups=["operator", "risk_officer"],
        expiry_seconds=3600,
    )

    with pytest.raises(NotPermitted):
        grant(request, users["operator2"], password)
    still = grant(request, users["risk"], password)

    assert still.status == ApprovalRequest.Status.PENDING


def test_approval_policy_save_refuses_zero_approvers_and_unknown_roles(users):
    with pytest.raises(ValidationFailed):
        approval_policy_save(
            actor=users["admin"],
            action="x",
            approvals_required=0,
            eligible_groups=["operator"],
            expiry_seconds=600,
        )
    with pytest.raises(ValidationFailed):
        approval_policy_save(
            actor=users["admin"],
            action="x",
            approvals_required=1,
            eligible_groups=["nobody"],
            expiry_seconds=600,
        )

    assert not ApprovalPolicy.objects.filter(action="x").exists()


def test_approvals_expire_due_expires_only_due_requests_once(make_request, users, target):
    due = make_request()
    other = UserFactory(username="other-target")
    fresh = approval_request_create(
        action="test_action", target=other, reason="r", payload={}, actor=users["operator1"]
    )
    ApprovalRequest.objects.filter(pk=due.pk).update(expires_at=timezone.now())

    assert approvals_expire_due() == 1
    assert approvals_expire_due() == 0
    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (due.status, fresh.status) == (
        ApprovalRequest.Status.EXPIRED,
        ApprovalRequest.Status.PENDING,
    )


def test_expired_but_unswept_request_does_not_block_a_new_one(make_request):
    first = make_request()
    ApprovalRequest.objects.filter(pk=first.pk).update(expires_at=timezone.now())

    second = make_request(requester="operator2")

    first.refresh_from_db()
    assert first.status == ApprovalRequest.Status.EXPIRED
    assert second.status == ApprovalRequest.Status.PENDING


def test_status_cannot_be_assigned_directly(make_request):
    request = make_request()

    with pytest.raises(AttributeError):
        request.status = ApprovalRequest.Status.EXECUTED


def test_default_policies_exist_after_migrate():
    policies = {p.action: p for p in ApprovalPolicy.objects.all()}

    assert (
        policies["live_transition"].approvals_required,
        sorted(policies["live_transition"].eligible_groups),
        policies["live_transition"].expiry_seconds,
    ) == (1, ["operator", "risk_officer"], 3600)
    assert (
        policies["kill_switch_resume"].approvals_required,
        policies["kill_switch_resume"].eligible_groups,
        policies["kill_switch_resume"].expiry_seconds,
    ) == (1, ["risk_officer"], 3600)


def test_a_requester_row_inserted_around_the_service_never_counts(users, target, password):
    ApprovalPolicyFactory(approvals_required=2)
    request = approval_request_create(
        action="test_action", target=target, reason="r", payload={}, actor=users["operator1"]
    )
    Approval.objects.create(
        request=request,
        approver=users["operator1"],
        decision=Approval.Decision.APPROVE,
        payload_sha256=request.payload_sha256,
        payload_revision=request.payload_revision,
        at=timezone.now(),
    )

    result = grant(request, users["operator2"], password)

    assert result.status == ApprovalRequest.Status.PENDING
    assert executions() == 0
