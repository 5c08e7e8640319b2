"""Every public write service of the apps is a service entry point: inside a caller's
transaction it raises RuntimeError before doing anything, so no caller can silently
roll back the audit event of a refusal (issue #8 part 3). The check runs before the
arguments are looked at, so the services are called with none. The test case's own
transaction does not count (Django's durable check skips it too); the block opened
here does, so these need no transactional (slower) test database."""

import pytest
from django.db import transaction

from drills.services import automation, recording, runs, schedules
from incidents import services as incidents
from opsportal.accounts import services as accounts
from opsportal.approvals import services as approvals
from opsportal.library import services as library
from opsportal.signoffs import services as signoffs

ENTRY_POINTS = [
    approvals.approval_request_create,
    approvals.approval_request_amend,
    approvals.approval_grant,
    approvals.approval_reject,
    approvals.approval_cancel,
    approvals.approvals_expire_due,
    approvals.approval_policy_save,
    incidents.incident_open,
    incidents.incident_transition,
    incidents.incident_severity_change,
    incidents.incident_impact_update,
    incidents.incident_role_assign,
    incidents.incident_role_end,
    incidents.incident_status_update_post,
    incidents.timeline_entry_add,
    incidents.incident_attach_playbook,
    incidents.incident_checklist_item_tick,
    runs.drill_run_plan,
    runs.drill_precheck_tick,
    runs.drill_run_start,
    runs.drill_run_complete,
    runs.drill_run_abort,
    recording.drill_step_record,
    recording.drill_action_item_add,
    recording.drill_action_item_set_status,
    schedules.drill_schedule_create,
    schedules.drill_schedule_update,
    schedules.drill_schedule_mark_due,
    automation.drill_step_trigger_automated,
    automation.drill_step_start_recovery,
    automation.drill_step_record_recovery,
    signoffs.signoff_sign,
    library.procedure_publish,
    library.procedure_library_load,
    library.procedure_revise,
    library.checklist_item_tick,
    accounts.user_ensure,
    accounts.user_admin_save,
]


@pytest.mark.django_db
@pytest.mark.parametrize("service", ENTRY_POINTS, ids=lambda s: s.__name__)
def test_service_entry_point_inside_a_callers_transaction_raises(service):
    with pytest.raises(RuntimeError, match="owns its transaction"), transaction.atomic():
        service()
