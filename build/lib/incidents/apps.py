from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        from incidents import audit_events, control_events  # noqa: F401 - audit_events registers
        from incidents.permissions import ROLE_GRANTS
        from opsportal.accounts.roles import register_role_grants

        register_role_grants(self.label, ROLE_GRANTS)
        # What incidents do when the kill switch trips or the mode changes.
        control_events.register()
