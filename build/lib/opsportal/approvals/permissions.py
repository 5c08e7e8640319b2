"""Role grants for four-eyes approvals (see accounts/roles.py).

Deciding needs `approvals.decide_approvalrequest`, but the real gate is the request's
snapshot of eligible groups, checked by the service. Nobody may add, change or
delete requests or decisions outside the services (the admin is read-only).
"""

_USE = [
    "approvals.view_approvalrequest",
    "approvals.view_approval",
    "approvals.view_approvalpolicy",
    "approvals.add_approvalrequest",
    "approvals.decide_approvalrequest",
]

ROLE_GRANTS = {
    "operator": _USE,
    "incident_commander": _USE,
    "risk_officer": _USE,
    "admin": [
        "approvals.view_approvalrequest",
        "approvals.view_approval",
        "approvals.view_approvalpolicy",
        "approvals.add_approvalpolicy",
        "approvals.change_approvalpolicy",
    ],
}
