from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "opsportal.library"
    label = "library"
    verbose_name = "Procedure library"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        from opsportal.accounts.roles import register_role_grants
        from opsportal.library.permissions import ROLE_GRANTS

        register_role_grants(self.label, ROLE_GRANTS)
        from opsportal.library import audit_events  # noqa: F401
