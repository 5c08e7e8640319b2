from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "opsportal.controls"
    label = "controls"
    verbose_name = "Trading controls"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        from opsportal.accounts.roles import register_role_grants
        from opsportal.controls.permissions import ROLE_GRANTS

        register_role_grants(self.label, ROLE_GRANTS)
        from opsportal.controls import (
            actions,
            audit_events,  # noqa: F401
            notices,  # noqa: F401 - registers the kill-switch notification kinds
            preconditions,  # noqa: F401 - registers the built-in live preconditions
        )

        actions.register()
        # Kill-switch history and gate decision (mode) changes go into audit exports.
        from opsportal.audit.exports import register_export_table
        from opsportal.controls.models import KillSwitchEvent, ModeChange

        register_export_table("kill_switch_events", KillSwitchEvent, "occurred_at")
        register_export_table("gate_mode_changes", ModeChange, "occurred_at")
