"""Role grants for reports (see accounts/roles.py).

Everyone may request reports and read them: the report is a view of records each
role already reads, and auditors file them as evidence. Requesting is
`reports.export_report` (an export, which the auditor may hold; the auditor's
`view_*` permissions come automatically).
"""

_REPORTS = ["reports.view_report", "reports.view_reportfile", "reports.export_report"]

ROLE_GRANTS = {
    "operator": _REPORTS,
    "incident_commander": _REPORTS,
    "risk_officer": _REPORTS,
    "auditor": ["reports.export_report"],
    "admin": _REPORTS,
}
