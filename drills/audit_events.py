from opsportal.audit.registry import register

register(
    ("procedure.published", "Procedure version published"),
)
