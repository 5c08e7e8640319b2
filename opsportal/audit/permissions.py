"""Role grants for the audit trail. Nobody may add, change or delete events; admins
and risk officers read and export it (the auditor reads every view_* and exports,
accounts.roles.AUDITOR_EXTRA)."""

ROLE_GRANTS = {
    "admin": ["audit.view_auditevent", "audit.export_auditevent", "audit.purge_auditevent"],
    "risk_officer": [
        "audit.view_auditevent",
        "audit.export_auditevent",
        "audit.purge_auditevent",
    ],
}
