"""Role grants for drills and the procedure library (see accounts/roles.py).

Operators (and incident commanders) plan, run, record and sign drills as drill
lead; risk officers sign; admins manage schedules; auditors read (every view_*
permission is theirs automatically).
"""

_READ = [
    "drills.view_procedure",
    "drills.view_procedureversion",
    "drills.view_procedurestep",
    "drills.view_checklist",
    "drills.view_checklistitem",
]

_DRILL_READ = [
    "drills.view_drillschedule",
    "drills.view_drillrun",
    "drills.view_drillstepresult",
    "drills.view_drillprecheckitem",
    "drills.view_drillactionitem",
    "drills.view_signoff",
]

_DRILL_RUN = [*_DRILL_READ, "drills.run_drillrun", "drills.sign_drillrun"]

ROLE_GRANTS = {
    "operator": [*_READ, *_DRILL_RUN],
    "incident_commander": [*_READ, *_DRILL_RUN],
    "risk_officer": [*_READ, *_DRILL_READ, "drills.sign_drillrun"],
    "admin": [
        *_READ,
        *_DRILL_READ,
        "drills.add_procedureversion",
        "drills.change_procedure",
        "drills.add_drillschedule",
        "drills.change_drillschedule",
    ],
}
