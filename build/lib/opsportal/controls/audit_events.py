from opsportal.audit.registry import register

register(
    ("kill_switch.triggered", "Kill switch triggered"),
    ("kill_switch.trigger_repeated", "Kill switch triggered while already killed (no change)"),
    ("kill_switch.recovery_started", "Kill-switch recovery started (resume requested)"),
    ("kill_switch.recovery_completed", "Kill-switch recovery completed (trading resumed)"),
    ("kill_switch.verified", "Kill switch verified working"),
    ("mode.went_live", "Environment went LIVE"),
    ("mode.rolled_back", "Environment rolled back to DRY_RUN"),
    ("gate_token.issued", "Gate token issued"),
    ("gate_token.revoked", "Gate token revoked"),
    ("api_token.issued", "People-API token issued"),
    ("api_token.revoked", "People-API token revoked"),
    ("environment.created", "Environment created"),
    ("environment.changed", "Environment changed"),
)
