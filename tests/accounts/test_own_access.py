"""Nobody changes their own roles or superuser/staff flags, and granting a privileged
role (risk officer, admin) or superuser status is a four-eyes approval request that
another admin approves; every role change is audited (issue 14 item 5)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from opsportal.accounts.models import User
from opsportal.accounts.services import user_roles_change_in_transaction
from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.services import approval_grant
from opsportal.audit.models import AuditEvent
from opsportal.core.errors import NotPermitted
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, users):
    admin = users["admin"]
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    client.force_login(admin)
    return client


def change_form(user, *, groups, **flags):
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        **{flag: "on" for flag, on in flags.items() if on},
        "groups": [Group.objects.get(name=name).pk for name in groups],
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }


def roles_of(user):
    return sorted(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def test_admin_saving_themselves_as_superuser_and_risk_officer_is_refused(admin_client, users):
    admin = users["admin"]

    response = admin_client.post(
        f"/admin/accounts/user/{admin.pk}/change/",
        change_form(admin, groups=["admin", "risk_officer"], is_staff=True, is_superuser=True),
    )

    assert response.status_code == 200
    assert "You cannot change your own roles" in response.content.decode()
    assert User.objects.get(pk=admin.pk).is_superuser is False
    assert roles_of(admin) == ["admin"]
    assert ApprovalRequest.objects.count() == 0


def test_nobody_changes_their_own_roles_through_the_service(users):
    admin = users["admin"]

    with pytest.raises(NotPermitted) as exc:
        user_roles_change_in_transaction(
            actor=admin, user=admin, roles=["admin", "operator"], superuser=False
        )

    assert exc.value.code == "own_access"
    assert roles_of(admin) == ["admin"]


def test_granting_risk_officer_makes_an_approval_request_instead(admin_client, users):
    target = users["operator2"]

    response = admin_client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        change_form(target, groups=["operator", "risk_officer"]),
        follow=True,
    )

    request = ApprovalRequest.objects.get(action="role_grant")
    assert (request.status, request.payload) == (
        "pending",
        {"roles": ["risk_officer"], "superuser": False},
    )
    assert roles_of(target) == ["operator"]
    assert f"approval request #{request.pk} is waiting" in response.content.decode()


def test_another_admin_approving_the_grant_applies_it_audited(admin_client, users, password):
    target = users["operator2"]
    admin_client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        change_form(target, groups=["operator", "risk_officer"], is_superuser=True),
    )
    request = ApprovalRequest.objects.get(action="role_grant")
    second = UserFactory(username="admin2", roles=["admin"])

    approval_grant(
        request_id=request.pk,
        actor=second,
        password=password,
        payload_sha256=request.payload_sha256,
    )

    assert roles_of(target) == ["operator", "risk_officer"]
    assert User.objects.get(pk=target.pk).is_superuser is True
    event = AuditEvent.objects.filter(event_type="user.roles_changed").latest("pk")
    assert (event.after, event.actor) == ({"roles": ["operator", "risk_officer"]}, users["admin"])


def test_an_admin_cannot_approve_a_grant_to_themselves(users, password):
    other_admin = UserFactory(username="admin2", roles=["admin"])
    with_request = user_roles_change_in_transaction(
        actor=users["admin"], user=other_admin, roles=["admin"], superuser=True
    )
    request = ApprovalRequest.objects.get(action="role_grant")

    result = approval_grant(
        request_id=request.pk,
        actor=other_admin,
        password=password,
        payload_sha256=request.payload_sha256,
    )

    assert len(with_request) == 1
    assert result.status == "failed"
    assert User.objects.get(pk=other_admin.pk).is_superuser is False


def test_removing_a_role_applies_at_once_and_is_audited(admin_client, users):
    target = users["commander"]

    admin_client.post(
        f"/admin/accounts/user/{target.pk}/change/", change_form(target, groups=["operator"])
    )

    assert roles_of(target) == ["operator"]
    event = AuditEvent.objects.get(event_type="user.roles_changed", object_id=str(target.pk))
    assert event.before == {"roles": ["incident_commander", "operator"]}
