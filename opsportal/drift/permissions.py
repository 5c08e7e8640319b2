"""Role grants for drift checks (see accounts/roles.py).

Operators and incident commanders read drift and run a check now, and may propose a
running configuration as the new baseline (a four-eyes request a risk officer
approves); admins manage time sources and configuration targets; auditors read
(every view_* permission is theirs automatically).
"""

_READ = [
    "drift.view_timesource",
    "drift.view_clockcheck",
    "drift.view_configtarget",
    "drift.view_configcheck",
    "drift.view_configfinding",
]

_OPERATE = [*_READ, "drift.check_timesource", "drift.propose_configbaseline"]

ROLE_GRANTS = {
    "operator": _OPERATE,
    "incident_commander": _OPERATE,
    "risk_officer": _READ,
    "admin": [
        *_READ,
        "drift.add_timesource",
        "drift.change_timesource",
        "drift.add_configtarget",
        "drift.change_configtarget",
    ],
}
