"""Role grants for drills (see accounts/roles.py).

Operators (and incident commanders) plan, run, record and sign drills as drill
lead; risk officers sign; admins manage schedules; auditors read (every view_*
permission is theirs automatically).
"""

_DRILL_READ = [
    "drills.view_drillschedule",
    "drills.view_drillrun",
    "drills.view_drillstepresult",
    "drills.view_drillprecheckitem",
    "drills.view_drillactionitem",
]

_DRILL_RUN = [*_DRILL_READ, "drills.run_drillrun", "drills.sign_drillrun"]

ROLE_GRANTS = {
    "operator": _DRILL_RUN,
    "incident_commander": _DRILL_RUN,
    "risk_officer": [*_DRILL_READ, "drills.sign_drillrun"],
    "admin": [
        *_DRILL_READ,
        "drills.add_drillschedule",
        "drills.change_drillschedule",
    ],
}
