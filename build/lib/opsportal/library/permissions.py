"""Role grants for the procedure library and checklists (see accounts/roles.py).

Every working role reads the library; admins publish revisions. Ticking a checklist
item is granted by the app that owns the checklist's target (an incident's playbook
by incidents), so the library grants no write to operators itself. Auditors read
(every view_* permission is theirs automatically).
"""

READ = [
    "library.view_procedure",
    "library.view_procedureversion",
    "library.view_procedurestep",
    "library.view_checklist",
    "library.view_checklistitem",
]

ROLE_GRANTS = {
    "operator": READ,
    "incident_commander": READ,
    "risk_officer": READ,
    "admin": [*READ, "library.add_procedureversion", "library.change_procedure"],
}
