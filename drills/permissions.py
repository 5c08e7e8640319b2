"""Role grants for drills and the procedure library (see accounts/roles.py)."""

_READ = [
    "drills.view_procedure",
    "drills.view_procedureversion",
    "drills.view_procedurestep",
    "drills.view_checklist",
]

ROLE_GRANTS = {
    "operator": _READ,
    "incident_commander": _READ,
    "risk_officer": _READ,
    "admin": [*_READ, "drills.add_procedureversion", "drills.change_procedure"],
}
