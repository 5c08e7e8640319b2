import pytest
from django.contrib.auth.models import Group

from opsportal.accounts.models import User
from opsportal.audit.models import AuditEvent


@pytest.fixture
def admin_client(client, users):
    admin = users["admin"]
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    client.force_login(admin)
    return client


def test_admin_creating_a_user_is_audited(admin_client, users):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newop",
            "password1": "Xq9!long-pass-phrase",
            "password2": "Xq9!long-pass-phrase",
        },
    )

    assert response.status_code == 302
    event = AuditEvent.objects.get(event_type="user.created", object_repr="newop")
    assert event.actor == users["admin"]
    assert "password" not in str(event.after)


def test_admin_changing_a_users_roles_and_fields_is_audited(admin_client, users):
    target = users["operator2"]
    risk_group = Group.objects.get(name="incident_commander")

    response = admin_client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        {
            "username": target.username,
            "first_name": "Renamed",
            "last_name": target.last_name,
            "email": target.email,
            "is_active": "on",
            "groups": [risk_group.pk],
            "date_joined_0": target.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": target.date_joined.strftime("%H:%M:%S"),
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    changed = AuditEvent.objects.get(event_type="user.changed", object_id=str(target.pk))
    assert changed.after["first_name"] == "Renamed"
    assert changed.before["first_name"] != "Renamed"
    roles = AuditEvent.objects.get(event_type="user.roles_changed", object_id=str(target.pk))
    assert (roles.before, roles.after) == (
        {"roles": ["operator"]},
        {"roles": ["incident_commander"]},
    )


def test_admin_setting_a_password_is_audited_without_the_hash(admin_client, users):
    target = users["operator1"]

    response = admin_client.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"password1": "Zt7!another-long-phrase", "password2": "Zt7!another-long-phrase"},
    )

    assert response.status_code == 302
    event = AuditEvent.objects.get(event_type="user.password_changed")
    assert event.object_id == str(target.pk)
    assert User.objects.get(pk=target.pk).check_password("Zt7!another-long-phrase")
    assert event.before is None and event.after is None


def test_admin_cannot_change_a_role_groups_permissions(admin_client):
    """Issue 14 items 4/5: a role's permissions come from the code (ROLE_GRANTS), never
    from an admin editing the group, which would hand out access around four-eyes."""
    group = Group.objects.get(name="admin")
    before = set(group.permissions.values_list("pk", flat=True))

    response = admin_client.post(
        f"/admin/auth/group/{group.pk}/change/", {"name": "admin", "permissions": []}
    )

    assert (response.status_code, set(group.permissions.values_list("pk", flat=True))) == (
        403,
        before,
    )
