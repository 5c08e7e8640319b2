"""Role grants for sign-offs (see accounts/roles.py): the roles that sign read them.
Who may sign what is decided per record by its signable adapter, not by a grant here."""

ROLE_GRANTS = {
    "operator": ["signoffs.view_signoff"],
    "incident_commander": ["signoffs.view_signoff"],
    "risk_officer": ["signoffs.view_signoff"],
    "admin": ["signoffs.view_signoff"],
}
