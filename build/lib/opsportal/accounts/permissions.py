"""Role grants for user management (see accounts/roles.py)."""

ROLE_GRANTS = {
    "admin": [
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_user",
        # Groups are read-only: a role's permissions come from the apps' ROLE_GRANTS
        # (synced after every migrate), and who holds a role changes on the user, where
        # privileged grants are four-eyes (accounts.services).
        "auth.view_group",
        "django_celery_beat.add_periodictask",
        "django_celery_beat.change_periodictask",
        "django_celery_beat.view_periodictask",
        # Clear a sign-in lockout (django-axes' "Access attempts" in the admin).
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
    ],
    "operator": ["accounts.view_user"],
    "incident_commander": ["accounts.view_user"],
    "risk_officer": ["accounts.view_user"],
}
