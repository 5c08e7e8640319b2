from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DriftConfig(AppConfig):
    name = "opsportal.drift"
    label = "drift"
    verbose_name = "Drift checks"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        from opsportal.accounts.roles import register_role_grants
        from opsportal.drift.permissions import ROLE_GRANTS

        register_role_grants(self.label, ROLE_GRANTS)
        from opsportal.drift import (
            audit_events,  # noqa: F401
            notices,  # noqa: F401  (registers the clock-drift notification kinds)
            registrations,
        )

        registrations.register()
        post_migrate.connect(
            registrations.ensure_policy_after_migrate,
            sender=self,
            dispatch_uid="opsportal.drift.config_baseline_policy",
        )
        # What an audit export carries from drift (the checks are the evidence).
        from opsportal.audit.exports import register_export_table
        from opsportal.drift.models import ClockCheck, ConfigCheck, ConfigFinding

        register_export_table("clock_checks", ClockCheck, "checked_at")
        register_export_table("config_checks", ConfigCheck, "checked_at")
        register_export_table("config_findings", ConfigFinding, "opened_at")
