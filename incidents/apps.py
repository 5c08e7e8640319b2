from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        from incidents.permissions import ROLE_GRANTS
        from opsportal.accounts.roles import register_role_grants

        register_role_grants(self.label, ROLE_GRANTS)
        from incidents import audit_events  # noqa: F401
