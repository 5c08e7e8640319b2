from django.apps import AppConfig


class SignoffsConfig(AppConfig):
    name = "opsportal.signoffs"
    label = "signoffs"
    verbose_name = "Sign-offs"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        from opsportal.accounts.roles import register_role_grants
        from opsportal.signoffs.permissions import ROLE_GRANTS

        register_role_grants(self.label, ROLE_GRANTS)
        from opsportal.signoffs import audit_events  # noqa: F401
