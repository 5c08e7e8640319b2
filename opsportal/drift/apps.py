from django.apps import AppConfig


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
            registrations,
        )

        registrations.register()
