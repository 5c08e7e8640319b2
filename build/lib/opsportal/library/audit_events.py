from opsportal.audit.registry import register

register(
    ("procedure.published", "Procedure version published"),
    ("procedure.revised", "Procedure revised (new version)"),
    ("checklist.created", "Checklist created from a procedure"),
    ("checklist.item_ticked", "Checklist item ticked"),
)
