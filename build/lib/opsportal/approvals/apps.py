from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ApprovalsConfig(AppConfig):
    name = "opsportal.approvals"
    label = "approvals"
    verbose_name = "Four-eyes approvals"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        from opsportal.accounts.roles import register_role_grants
        from opsportal.approvals.permissions import ROLE_GRANTS

        register_role_grants(self.label, ROLE_GRANTS)
        from opsportal.approvals import audit_events  # noqa: F401
        from opsportal.approvals.defaults import ensure_default_policies_after_migrate
        from opsportal.approvals.role_grant import register as register_role_grant_action

        # Granting risk officer / admin / superuser is four-eyes (role_grant.py says why here).
        register_role_grant_action()

        post_migrate.connect(
            ensure_default_policies_after_migrate,
            sender=self,
            dispatch_uid="opsportal.approvals.default_policies",
        )
