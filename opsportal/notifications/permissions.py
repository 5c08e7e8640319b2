"""Role grants for notifications (see accounts/roles.py). Everyone who works in the
portal reads their own notifications and marks them read; the auditor reads (every
view_* permission) and changes nothing, so cannot mark them read. A list only ever
shows the signed-in user's own notifications."""

_OWN = ["notifications.view_notification", "notifications.change_notification"]

ROLE_GRANTS = {
    "operator": _OWN,
    "incident_commander": _OWN,
    "risk_officer": _OWN,
    "admin": _OWN,
}
