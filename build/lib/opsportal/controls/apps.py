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
            preconditions,  # noqa: F401 - registers the built-in live preconditions
        )

        actions.register()
