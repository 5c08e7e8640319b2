"""Issue 14 item 16: an approval policy may make eligible only roles that hold the
permission the action declares for approving (`ActionSpec.decide_permission`), so an
admin cannot make the auditor, who may change nothing, an approver of going live.
The engine checks the permission at decision time too, for snapshots made before."""

import pytest
from django.test import Client
from django.urls import reverse

from opsportal.approvals.models import ApprovalPolicy
from opsportal.approvals.services import approval_grant, approval_policy_save
from opsportal.core.errors import NotPermitted, ValidationFailed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["auditor", "admin"])
@pytest.mark.parametrize("action", ["live_transition", "kill_switch_resume"])
def test_approval_policy_save_refuses_roles_that_may_not_approve(users, action, role):
    with pytest.raises(ValidationFailed) as refused:
        approval_policy_save(
            actor=users["admin"],
            action=action,
            approvals_required=1,
            eligible_groups=["risk_officer", role],
            expiry_seconds=3600,
        )

    assert (refused.value.field, refused.value.code) == ("eligible_groups", "role_may_not_approve")
    assert role in refused.value.message
    assert role not in ApprovalPolicy.objects.get(action=action).eligible_groups


def test_admin_policy_form_shows_why_the_auditor_cannot_approve_going_live(db):
    client = Client()
    client.force_login(UserFactory(username="ada", roles=["admin"], is_staff=True))
    policy = ApprovalPolicy.objects.get(action="live_transition")

    response = client.post(
        reverse("admin:approvals_approvalpolicy_change", args=[policy.pk]),
        {
            "description": "auditor too",
            "approvals_required": "1",
            "eligible_groups": ["risk_officer", "auditor"],
            "expiry_seconds": "3600",
        },
    )

    assert response.status_code == 200
    assert "auditor may not approve" in response.content.decode()
    policy.refresh_from_db()
    assert policy.eligible_groups == ["operator", "risk_officer"]


def test_approval_grant_refuses_a_member_of_a_stale_eligible_group_without_the_permission(
    make_request, policy, users, password
):
    policy.eligible_groups = ["auditor"]  # written before the rule existed
    policy.save(update_fields=["eligible_groups"])
    request = make_request()

    with pytest.raises(NotPermitted) as refused:
        approval_grant(
            request_id=request.pk,
            actor=users["auditor"],
            password=password,
            payload_sha256=request.payload_sha256,
        )

    assert refused.value.code == "not_eligible"
    request.refresh_from_db()
    assert request.status == "pending"
