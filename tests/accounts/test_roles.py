import pytest
from django.contrib.auth.models import Group, Permission

from opsportal.accounts.roles import ROLES, sync_roles


@pytest.mark.django_db
def test_migration_creates_the_five_roles():
    assert set(Group.objects.values_list("name", flat=True)) == set(ROLES)


@pytest.mark.django_db
def test_auditor_holds_only_view_and_export_permissions():
    codenames = set(
        Group.objects.get(name="auditor").permissions.values_list("codename", flat=True)
    )

    assert codenames
    assert all(c.startswith("view_") or c.startswith("export_") for c in codenames)


@pytest.mark.django_db
def test_nobody_may_change_or_delete_audit_events():
    holders = Permission.objects.filter(
        content_type__app_label="audit",
        codename__in=["add_auditevent", "change_auditevent", "delete_auditevent"],
    ).filter(group__isnull=False)

    assert list(holders) == []


@pytest.mark.django_db
def test_sync_roles_restores_a_removed_grant():
    group = Group.objects.get(name="operator")
    group.permissions.clear()

    sync_roles()

    assert group.permissions.filter(codename="view_environment").exists()
