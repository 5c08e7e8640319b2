from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "opsportal.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        from opsportal.accounts.roles import register_role_grants
        from opsportal.notifications.permissions import ROLE_GRANTS

        register_role_grants(self.label, ROLE_GRANTS)
        from opsportal.notifications import audit_events  # noqa: F401
