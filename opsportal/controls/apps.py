from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "opsportal.controls"
    label = "controls"
    verbose_name = "Trading controls"

    def ready(self) -> None:
        from opsportal.controls import (
            actions,
            audit_events,  # noqa: F401
            preconditions,  # noqa: F401 - registers the built-in live preconditions
        )

        actions.register()
