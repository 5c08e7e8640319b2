from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "opsportal.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        from opsportal.accounts.roles import register_role_grants
        from opsportal.reports import audit_events  # noqa: F401 - registers event types
        from opsportal.reports.permissions import ROLE_GRANTS

        register_role_grants(self.label, ROLE_GRANTS)
