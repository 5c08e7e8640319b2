"""Role grants for notifications (see accounts/roles.py). Everyone who works in the
portal reads their own notifications and marks them read; the auditor reads (every
view_* permission) and changes nothing, so cannot mark them read. A list only ever
shows the signed-in user's own notifications."""

_OWN = [
    "notifications.view_notification",
    "notifications.change_notification",
    "notifications.change_notificationpreference",
]

ROLE_GRANTS = {
    "operator": _OWN,
    "incident_commander": _OWN,
    "risk_officer": _OWN,
    # Admins manage the team channels and re-queue deliveries that gave up.
    "admin": [
        *_OWN,
        "notifications.view_delivery",
        "notifications.change_delivery",
        "notifications.view_webhookendpoint",
        "notifications.add_webhookendpoint",
        "notifications.change_webhookendpoint",
        "notifications.delete_webhookendpoint",
    ],
}
