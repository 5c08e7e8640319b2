"""Role grants for trading controls (see accounts/roles.py)."""

ROLE_GRANTS = {
    "operator": ["controls.view_environment"],
    "incident_commander": ["controls.view_environment"],
    "risk_officer": ["controls.view_environment"],
    "admin": [
        "controls.view_environment",
        "controls.add_environment",
        "controls.change_environment",
    ],
}
