from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ApprovalsConfig(AppConfig):
    name = "opsportal.approvals"
    label = "approvals"
    verbose_name = "Four-eyes approvals"

    def ready(self) -> None:
        from opsportal.approvals import audit_events  # noqa: F401
        from opsportal.approvals.defaults import ensure_default_policies_after_migrate

        post_migrate.connect(
            ensure_default_policies_after_migrate,
            sender=self,
            dispatch_uid="opsportal.approvals.default_policies",
        )
