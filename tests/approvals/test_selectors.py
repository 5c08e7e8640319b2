from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.selectors import (
    approval_preconditions,
    approvals_waiting_count,
    approvals_waiting_for,
)
from opsportal.approvals.services import approval_grant, approval_request_create
from tests.approvals.factories import ApprovalPolicyFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_approvals_waiting_for_excludes_own_ineligible_decided_and_expired(users, password):
    ApprovalPolicyFactory(approvals_required=2, eligible_groups=["risk_officer", "operator"])
    open_one = approval_request_create(
        action="test_action",
        target=UserFactory(username="a"),
        reason="r",
        payload={},
        actor=users["operator1"],
    )
    expired = approval_request_create(
        action="test_action",
        target=UserFactory(username="b"),
        reason="r",
        payload={},
        actor=users["operator1"],
    )
    ApprovalRequest.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    approval_grant(
        request_id=open_one.pk,
        actor=users["risk"],
        password=password,
        payload_sha256=open_one.payload_sha256,
    )

    assert list(approvals_waiting_for(users["operator2"])) == [open_one]
    assert list(approvals_waiting_for(users["operator1"])) == []  # their own
    assert list(approvals_waiting_for(users["risk"])) == []  # already decided
    assert list(approvals_waiting_for(users["auditor"])) == []  # not eligible
    assert approvals_waiting_count(users["operator2"]) == 1
    assert approvals_waiting_count(users["auditor"]) is None
    assert approvals_waiting_count(users["admin"]) is None


def test_approvals_waiting_for_matches_role_names_exactly(users):
    ApprovalPolicyFactory(eligible_groups=["risk_officer"])
    approval_request_create(
        action="test_action",
        target=UserFactory(username="a"),
        reason="r",
        payload={},
        actor=users["operator1"],
    )

    assert approvals_waiting_for(users["operator2"]).count() == 0
    assert approvals_waiting_for(users["risk"]).count() == 1


def test_approval_preconditions_are_live(make_request, target):
    request = make_request()
    type(target).objects.filter(pk=target.pk).update(is_active=False)
    request = ApprovalRequest.objects.get(pk=request.pk)

    results = {r.code: r.passed for r in approval_preconditions(request)}

    assert results == {"target_active": False, "not_blocked": True}
