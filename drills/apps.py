from django.apps import AppConfig


class DrillsConfig(AppConfig):
    name = "drills"
    verbose_name = "Drills and procedure library"

    def ready(self) -> None:
        from drills import audit_events  # noqa: F401
