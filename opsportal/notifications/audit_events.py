from opsportal.audit.registry import register

register(
    ("notification.created", "Notifications created"),
    ("notification.read", "Notifications marked read"),
    ("notification.delivered", "Notification delivered (email or webhook)"),
    ("notification.delivery_failed", "Notification delivery failed (retried)"),
    ("notification.requeued", "Notification delivery re-queued by an admin"),
    ("notification.preferences_changed", "Notification preferences changed"),
    ("notification.webhook_saved", "Notification webhook saved"),
    ("notification.webhook_deleted", "Notification webhook deleted"),
)
