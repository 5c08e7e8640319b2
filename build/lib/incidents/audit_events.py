from opsportal.audit.registry import register

register(
    ("incident.opened", "Incident opened"),
    ("incident.acknowledged", "Incident acknowledged"),
    ("incident.investigating", "Incident investigation started"),
    ("incident.mitigating", "Incident mitigation started"),
    ("incident.monitoring", "Incident moved to monitoring"),
    ("incident.resolved", "Incident resolved"),
    ("incident.closed", "Incident closed"),
    ("incident.declined", "Incident declined (false positive)"),
    ("incident.reopened", "Incident reopened"),
    ("incident.severity_changed", "Incident severity changed"),
    ("incident.role_assigned", "Incident response role assigned"),
    ("incident.role_ended", "Incident response role ended"),
    ("incident.status_update_posted", "Incident status update posted"),
    ("incident.timeline_entry_added", "Incident timeline entry added"),
    ("incident.playbook_attached", "Playbook attached to incident"),
    ("incident.impact_updated", "Incident impact updated"),
)
