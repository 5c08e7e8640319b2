from opsportal.audit.registry import register

register(
    ("signoff.signed", "Signed off"),
    ("signoff.refused", "Sign-off refused"),
    ("signoff.voided", "Sign-off voided (signed content changed)"),
)
