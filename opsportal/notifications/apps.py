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
        # What an audit export carries: who was told what, when, by which channel.
        # `to` is left out: a webhook URL (Slack, Mattermost) carries its token.
        from opsportal.audit.exports import register_export_table
        from opsportal.notifications import audit_events  # noqa: F401
        from opsportal.notifications.models import Delivery

        register_export_table("notification_deliveries", Delivery, "created_at", exclude=("to",))
