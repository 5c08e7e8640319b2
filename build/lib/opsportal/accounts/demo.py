"""The demo users (README "Demo logins")."""

from __future__ import annotations

from opsportal.accounts import roles

DEMO_USERS = [
    # username, first, last, roles, is_staff
    ("operator1", "Olivia", "Operator", [roles.OPERATOR], False),
    ("operator2", "Omar", "Operator", [roles.OPERATOR], False),
    ("commander", "Chris", "Commander", [roles.INCIDENT_COMMANDER, roles.OPERATOR], False),
    ("risk", "Rita", "Risk", [roles.RISK_OFFICER], False),
    ("auditor", "Aude", "Auditor", [roles.AUDITOR], True),
    ("admin", "Ada", "Admin", [roles.ADMIN], True),
]
