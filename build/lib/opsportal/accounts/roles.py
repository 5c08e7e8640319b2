"""The five roles (Django groups) and the permissions each holds.

Each app says which of its permissions each role gets in its `permissions.py`, as
`ROLE_GRANTS = {"operator": ["incidents.acknowledge_incident", ...], ...}`, and
registers them from its `AppConfig.ready()` with `register_role_grants`. The
auditor additionally gets every `view_*` permission of the portal's apps, and no
other. `sync_roles` applies the union; the data migration
`accounts.0002_roles` runs it first, and a post_migrate handler re-runs it after
every migrate so a permission added by a later migration reaches its roles.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

OPERATOR = "operator"
INCIDENT_COMMANDER = "incident_commander"
RISK_OFFICER = "risk_officer"
AUDITOR = "auditor"
ADMIN = "admin"
ROLES = (OPERATOR, INCIDENT_COMMANDER, RISK_OFFICER, AUDITOR, ADMIN)
# Granting one of these (or superuser status) is a four-eyes approval request
# (accounts.services.user_roles_change_in_transaction; issue 14 item 5).
PRIVILEGED_ROLES = (RISK_OFFICER, ADMIN)
# What people read where a role is shown (lists, messages, admin choices).
ROLE_LABELS = {
    OPERATOR: "Operator",
    INCIDENT_COMMANDER: "Incident commander",
    RISK_OFFICER: "Risk officer",
    AUDITOR: "Auditor",
    ADMIN: "Admin",
}


def role_label(role: str) -> str:
    """ "risk_officer" -> "Risk officer"; an unknown name is shown as it is."""
    return ROLE_LABELS.get(role, role)


AUDITOR_EXTRA = ["audit.export_auditevent", "django_celery_beat.view_periodictask"]

# {app_label: {role: [permission, ...]}}, filled by each portal app's AppConfig.ready
# (accounts sits below the apps it grants for, so it cannot import them).
_GRANTS: dict[str, dict[str, list[str]]] = {}


def register_role_grants(app_label: str, grants: dict[str, list[str]]) -> None:
    """Declare which of its permissions (`"app_label.codename"`) each role gets, and
    make `app_label` a portal app whose view_* permissions the auditor reads. Called
    from the app's `AppConfig.ready()` with its `permissions.ROLE_GRANTS`; calling it
    again replaces the app's grants. ValueError for an unknown role."""
    unknown = set(grants) - set(ROLES)
    if unknown:
        raise ValueError(f"{app_label} grants to unknown roles {sorted(unknown)}")
    _GRANTS[app_label] = {role: list(perms) for role, perms in grants.items()}


def portal_apps() -> tuple[str, ...]:
    """The app labels that registered role grants (the auditor reads all their views)."""
    return tuple(_GRANTS)


def role_grants() -> dict[str, set[str]]:
    """{role: {"app_label.codename", ...}} as registered by the apps."""
    grants: dict[str, set[str]] = {role: set() for role in ROLES}
    for app_grants in _GRANTS.values():
        for role, perms in app_grants.items():
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
        content_type__app_label__in=portal_apps(), codename__startswith="view_"
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
    # post_migrate fires once per installed app; act once, after the last portal app.
    last = [c.label for c in global_apps.get_app_configs() if c.label in _GRANTS][-1:]
    if getattr(sender, "label", None) not in last:
        return
    sync_roles(apps=apps, verbosity=kwargs.get("verbosity", 0))
