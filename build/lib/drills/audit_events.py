from opsportal.audit.registry import register

register(
    ("procedure.published", "Procedure version published"),
    ("checklist.created", "Checklist created from a procedure"),
    ("checklist.item_ticked", "Checklist item ticked"),
    ("procedure.revised", "Procedure revised (new version)"),
    ("drill_schedule.created", "Drill schedule created"),
    ("drill_schedule.updated", "Drill schedule changed"),
    ("drill_schedule.marked_due", "Drill marked due (after a major change)"),
    ("drill_run.planned", "Drill planned"),
    ("drill_run.precheck_ticked", "Pre-drill checklist item ticked"),
    ("drill_run.started", "Drill started"),
    ("drill_run.step_recorded", "Drill step recorded"),
    ("drill_run.action_item_added", "Drill follow-up added"),
    ("drill_run.action_item_updated", "Drill follow-up status changed"),
    ("drill_run.completed", "Drill completed"),
    ("drill_run.aborted", "Drill aborted"),
    ("drill_run.signed_off", "Drill signed off"),
    ("signoff.signed", "Signed off"),
    ("signoff.refused", "Sign-off refused"),
    ("signoff.voided", "Sign-off voided (signed content changed)"),
)
