"""The admin: policies editable (and audited); requests and decisions read-only."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import Client
from django.urls import reverse

from opsportal.approvals.models import Approval, ApprovalPolicy, ApprovalRequest
from opsportal.approvals.services import approval_grant
from opsportal.audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(db):
    # A superuser holds every permission: the admin must still offer no write path.
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(db):
    """A staff user in the admin role (not a superuser): edits policies in the admin."""
    client = Client()
    client.force_login(UserFactory(username="ada", roles=["admin"], is_staff=True))
    return client


@pytest.mark.parametrize("model", [ApprovalRequest, Approval])
def test_admin_offers_no_add_change_or_delete_for_requests_and_decisions(model, rf, users):
    request = rf.get("/admin/")
    request.user = UserFactory(username="root", is_staff=True, is_superuser=True)
    model_admin = site._registry[model]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_admin_post_to_a_request_changes_nothing(make_request, superuser_client):
    approval = make_request()
    url = reverse("admin:approvals_approvalrequest_change", args=[approval.pk])

    page = superuser_client.get(url)
    response = superuser_client.post(url, {"status": "executed", "approvals_required": "0"})
    add = superuser_client.get(reverse("admin:approvals_approvalrequest_add"))
    delete = superuser_client.post(
        reverse("admin:approvals_approvalrequest_delete", args=[approval.pk]), {"post": "yes"}
    )

    assert page.status_code == 200  # viewable
    assert response.status_code == 403
    assert add.status_code == 403
    assert delete.status_code == 403
    approval.refresh_from_db()
    assert (approval.status, approval.approvals_required) == ("pending", 1)


def test_admin_request_page_shows_decisions_read_only(
    make_request, users, password, superuser_client
):
    approval = make_request()
    approval_grant(
        request_id=approval.pk,
        actor=users["risk"],
        password=password,
        payload_sha256=approval.payload_sha256,
    )

    page = superuser_client.get(
        reverse("admin:approvals_approvalrequest_change", args=[approval.pk])
    ).content.decode()

    assert "risk" in page
    assert 'name="decisions-0-approver"' not in page


def test_admin_can_edit_a_policy_through_the_service(admin_client):
    policy = ApprovalPolicy.objects.get(action="live_transition")
    client = admin_client

    response = client.post(
        reverse("admin:approvals_approvalpolicy_change", args=[policy.pk]),
        {
            "description": "two people now",
            "approvals_required": "2",
            "eligible_groups": ["risk_officer"],
            "expiry_seconds": "1800",
        },
    )

    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.approvals_required, policy.eligible_groups, policy.expiry_seconds) == (
        2,
        ["risk_officer"],
        1800,
    )
    event = AuditEvent.objects.get(event_type="approval.policy_changed")
    assert event.actor.username == "ada"
    assert event.before["approvals_required"] == 1


def test_admin_policy_form_refuses_zero_approvers_and_unknown_groups(admin_client):
    policy = ApprovalPolicy.objects.get(action="live_transition")

    response = admin_client.post(
        reverse("admin:approvals_approvalpolicy_change", args=[policy.pk]),
        {"approvals_required": "0", "eligible_groups": ["nobody"], "expiry_seconds": "1800"},
    )

    assert response.status_code == 200
    policy.refresh_from_db()
    assert policy.approvals_required == 1


def test_admin_policy_form_messages_state_the_rule(admin_client):
    policy = ApprovalPolicy.objects.get(action="live_transition")

    response = admin_client.post(
        reverse("admin:approvals_approvalpolicy_change", args=[policy.pk]),
        {"approvals_required": "0", "eligible_groups": ["operator"], "expiry_seconds": "-1"},
    )

    page = response.content.decode()
    assert "At least 1 approver is needed besides the requester." in page
    assert "At least 60 seconds: a request must stay open long enough to decide." in page
    assert "greater than or equal to" not in page
    assert "Risk officer" in page


def test_operator_cannot_edit_policies(client_for):
    policy = ApprovalPolicy.objects.get(action="live_transition")

    response = client_for("operator1").post(
        reverse("admin:approvals_approvalpolicy_change", args=[policy.pk]),
        {"approvals_required": "1", "eligible_groups": ["operator"], "expiry_seconds": "60"},
    )

    assert response.status_code == 302  # to the admin login: not staff
    policy.refresh_from_db()
    assert policy.eligible_groups == ["operator", "risk_officer"]
