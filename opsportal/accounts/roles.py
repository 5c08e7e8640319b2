"""The five roles (Django groups) and the permissions each holds.

Each app says which of its permissions each role gets in its `permissions.py`, as
`ROLE_GRANTS = {"operator": ["incidents.acknowledge_incident", ...], ...}`. The
auditor additionally gets every `view_*` permission of the portal's apps, and no
other. `sync_roles` applies the union; the data migration
`accounts.0002_roles` runs it first, and a post_migrate handler re-runs it after
every migrate so a permission added by a later migration reaches its roles.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

OPERATOR = "operator"
INCIDENT_COMMANDER = "incident_commander"
RISK_OFFICER = "risk_officer"
AUDITOR = "auditor"
ADMIN = "admin"
ROLES = (OPERATOR, INCIDENT_COMMANDER, RISK_OFFICER, AUDITOR, ADMIN)

# The portal's apps: each one's permissions.py may declare ROLE_GRANTS, and the
# auditor reads every view_* permission of these apps.
_PERMISSION_MODULES = {
    "accounts": "opsportal.accounts.permissions",
    "audit": "opsportal.audit.permissions",
    "controls": "opsportal.controls.permissions",
    "approvals": "opsportal.approvals.permissions",
    "incidents": "incidents.permissions",
    "drills": "drills.permissions",
}
PORTAL_APPS = tuple(_PERMISSION_MODULES)
AUDITOR_EXTRA = ["audit.export_auditevent", "django_celery_beat.view_periodictask"]


def role_grants() -> dict[str, set[str]]:
    """{role: {"app_label.codename", ...}} as declared by the apps' permissions.py."""
    grants: dict[str, set[str]] = {role: set() for role in ROLES}
    for module_name in _PERMISSION_MODULES.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        for role, perms in getattr(module, "ROLE_GRANTS", {}).items():
            if role not in grants:
                raise ValueError(f"{module_name} grants to unknown role {role!r}")
            grants[role].update(perms)
    grants[AUDITOR].update(AUDITOR_EXTRA)
    return grants


def sync_roles(apps: Any = global_apps, verbosity: int = 0) -> None:
    """Create the role groups and set each one's permissions to exactly its grants.

    Idempotent. `apps` is the migration state inside a migration, the live registry
    otherwise. Grants naming a permission that does not exist yet are skipped (its
    app's migration has not run); the next migrate adds them.
    """
    for app_config in apps.get_app_configs():
        # create_permissions skips app configs without a models module; the
        # migration state's configs have none, so present one for the call.
        had_module = getattr(app_config, "models_module", None)
        app_config.models_module = had_module or True
        try:
            create_permissions(app_config, apps=apps, verbosity=verbosity)
        finally:
            app_config.models_module = had_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    grants = role_grants()
    view_perms = Permission.objects.filter(
        content_type__app_label__in=PORTAL_APPS, codename__startswith="view_"
    )
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = set()
        for label in grants[role]:
            app_label, codename = label.split(".", 1)
            wanted.update(
                Permission.objects.filter(
                    content_type__app_label=app_label, codename=codename
                ).values_list("pk", flat=True)
            )
        if role == AUDITOR:
            wanted.update(view_perms.values_list("pk", flat=True))
        group.permissions.set(sorted(wanted))


def sync_roles_after_migrate(sender: Any, apps: Any = global_apps, **kwargs: Any) -> None:
    # post_migrate fires once per app; act once, on the last portal app.
    if getattr(sender, "label", None) != "drills":
        return
    sync_roles(apps=apps, verbosity=kwargs.get("verbosity", 0))
