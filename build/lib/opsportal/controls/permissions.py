"""Role grants for trading controls (see accounts/roles.py).

Who may do what (DESIGN "Trading environment and controls"):
- operator, incident_commander: trigger the kill switch, start recovery, request the
  live transition, roll back;
- risk_officer: trigger the kill switch too (completing recovery and approving go-live
  are approvals-engine policies: `kill_switch_resume`, `live_transition`);
- auditor: reads (every view_* permission, granted by accounts.roles);
- admin: manages environments and gate tokens.
"""

_READ = [
    "controls.view_environment",
    "controls.view_killswitchevent",
    "controls.view_modechange",
]
_OPERATE = [
    *_READ,
    "controls.trigger_killswitch",
    "controls.recover_killswitch",
    "controls.request_live_transition",
    "controls.rollback_mode",
]

ROLE_GRANTS = {
    "operator": _OPERATE,
    "incident_commander": _OPERATE,
    "risk_officer": [*_READ, "controls.trigger_killswitch"],
    "admin": [
        *_READ,
        "controls.add_environment",
        "controls.change_environment",
        "controls.view_gatetoken",
        "controls.add_gatetoken",
        "controls.change_gatetoken",
        "controls.view_apitoken",
        "controls.change_apitoken",
    ],
}
