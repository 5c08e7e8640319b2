"""Every write to an incident.

Each service takes keyword arguments and an explicit `actor` (a user, or None for
the system: scheduled jobs and the controls app's automatic openings). It checks
the actor's permission (users only), owns its transaction (a service entry point:
`transaction.atomic(durable=True)`, so calling it inside another transaction raises
RuntimeError), locks the incident row it changes, no-ops when the incident is
already where it was asked to go, saves with `update_fields`, appends a timeline
entry and writes an audit event in the same transaction.

Services other code composes into its own transaction have an `_in_transaction`
variant that runs in the caller's: `incident_open_in_transaction` and
`timeline_entry_add_in_transaction` (the controls listener, inside the kill-switch
transaction), `incident_attach_playbook_in_transaction` (opening with a playbook).

Errors (opsportal.core.errors): NotPermitted (the actor lacks the permission),
Conflict (the change does not fit the incident's state), ValidationFailed (bad
input, with the field), NotFound.
"""

from incidents.services._base import current_commander
from incidents.services.changes import incident_impact_update, incident_severity_change
from incidents.services.lifecycle import (
    PHASES,
    incident_acknowledge,
    incident_close,
    incident_decline,
    incident_investigate,
    incident_mitigate,
    incident_monitor,
    incident_reopen,
    incident_resolve,
    incident_transition,
)
from incidents.services.opening import incident_open, incident_open_in_transaction
from incidents.services.playbooks import (
    incident_attach_playbook,
    incident_attach_playbook_in_transaction,
    incident_checklist_item_tick,
    incident_checklists,
)
from incidents.services.roles import incident_role_assign, incident_role_end
from incidents.services.status_updates import incident_status_update_post
from incidents.services.timeline import timeline_entry_add, timeline_entry_add_in_transaction

__all__ = [
    "PHASES",
    "current_commander",
    "incident_acknowledge",
    "incident_attach_playbook",
    "incident_attach_playbook_in_transaction",
    "incident_checklist_item_tick",
    "incident_checklists",
    "incident_close",
    "incident_decline",
    "incident_impact_update",
    "incident_investigate",
    "incident_mitigate",
    "incident_monitor",
    "incident_open",
    "incident_open_in_transaction",
    "incident_reopen",
    "incident_resolve",
    "incident_role_assign",
    "incident_role_end",
    "incident_severity_change",
    "incident_status_update_post",
    "incident_transition",
    "timeline_entry_add",
    "timeline_entry_add_in_transaction",
]
