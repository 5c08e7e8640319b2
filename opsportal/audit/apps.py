from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "opsportal.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        from opsportal.accounts.roles import register_role_grants
        from opsportal.audit.permissions import ROLE_GRANTS

        register_role_grants(self.label, ROLE_GRANTS)
        from opsportal.audit import registry  # noqa: F401 - registers the core event types
        from opsportal.audit.services import audit_denied_write
        from opsportal.core.web import register_denial_listener

        register_denial_listener(audit_denied_write)
