from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "opsportal.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first. The audit
        # app's role grants are registered by accounts, the layer above it.
        from opsportal.audit import registry  # noqa: F401 - registers the core event types
        from opsportal.audit.services import audit_denied_write
        from opsportal.core.web import register_denial_listener

        register_denial_listener(audit_denied_write)
