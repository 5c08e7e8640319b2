"""Role grants for the audit trail. Nobody may add, change or delete events."""

ROLE_GRANTS = {
    "admin": ["audit.view_auditevent"],
    "risk_officer": ["audit.view_auditevent"],
}
