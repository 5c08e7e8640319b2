"""Role grants for incidents (see opsportal/accounts/roles.py and docs/incidents.md).

operator: opens, acknowledges, posts status updates, adds notes / commands /
evidence, updates the impact figures, attaches playbooks and ticks their items.
incident_commander: owns the incident: every phase transition, severity, roles,
decline, close, reopen (demo commanders also hold operator).
risk_officer: reads and adds notes. auditor: every view_* (automatic), nothing else.
"""

_READ = [
    "incidents.view_incident",
    "incidents.view_timelineentry",
    "incidents.view_statusupdate",
    "incidents.view_roleassignment",
]

OPERATOR = [
    *_READ,
    "incidents.add_incident",
    "incidents.acknowledge_incident",
    "incidents.post_status_update_incident",
    "incidents.add_note_incident",
    "incidents.add_record_incident",
    "incidents.attach_playbook_incident",
    "incidents.tick_checklist_incident",
    "incidents.change_incident",  # impact fields
]

INCIDENT_COMMANDER = [
    *OPERATOR,
    "incidents.investigate_incident",
    "incidents.mitigate_incident",
    "incidents.monitor_incident",
    "incidents.resolve_incident",
    "incidents.close_incident",
    "incidents.decline_incident",
    "incidents.reopen_incident",
    "incidents.change_severity_incident",
    "incidents.assign_role_incident",
]

ROLE_GRANTS = {
    "operator": OPERATOR,
    "incident_commander": INCIDENT_COMMANDER,
    "risk_officer": [*_READ, "incidents.add_note_incident"],
    "admin": _READ,
}

# What a holder of each response role must be able to do (all of these): a response
# role is work on the incident, so a user whose portal roles may not do that work
# (the auditor, who may change nothing; an admin) cannot hold it
# (`incident_role_assign`).
RESPONSE_ROLE_NEEDS = {
    "incident_commander": (
        "incidents.change_severity_incident",
        "incidents.resolve_incident",
        "incidents.assign_role_incident",
    ),
    "technical_lead": ("incidents.add_record_incident",),
    "communications_lead": ("incidents.post_status_update_incident",),
    "scribe": ("incidents.add_note_incident",),
    "risk_officer": ("incidents.add_note_incident",),
    "sme": ("incidents.add_note_incident",),
}
