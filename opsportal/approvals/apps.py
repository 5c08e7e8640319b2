from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "opsportal.approvals"
    label = "approvals"
    verbose_name = "Four-eyes approvals"
