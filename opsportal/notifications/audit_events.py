from opsportal.audit.registry import register

register(
    ("notification.created", "Notifications created"),
    ("notification.read", "Notifications marked read"),
)
