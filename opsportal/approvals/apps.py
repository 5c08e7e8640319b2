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
        from opsportal.approvals import (
            audit_events,  # noqa: F401
            notices,  # noqa: F401 - registers notification kinds
        )
        from opsportal.approvals.defaults import ensure_default_policies_after_migrate
        from opsportal.approvals.role_grant import register as register_role_grant_action

        # Granting risk officer / admin / superuser is four-eyes (role_grant.py says why here).
        register_role_grant_action()
        # Approval requests and approvals go into audit exports; purging the audit
        # trail after its retention is itself four-eyes (audit_purge.py).
        from opsportal.approvals import audit_purge
        from opsportal.approvals.models import Approval, ApprovalRequest
        from opsportal.audit.exports import register_export_table

        register_export_table("approval_requests", ApprovalRequest, "created_at")
        register_export_table("approvals", Approval, "at")
        audit_purge.register()

        post_migrate.connect(
            ensure_default_policies_after_migrate,
            sender=self,
            dispatch_uid="opsportal.approvals.default_policies",
        )
