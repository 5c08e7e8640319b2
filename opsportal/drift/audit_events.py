from opsportal.audit.registry import register

register(
    ("time_source.created", "Time source created"),
    ("time_source.updated", "Time source changed"),
    ("clock_check.recorded", "Clock-drift check recorded (status changed)"),
    ("clock_drift.neutral_set", "Clock drift put environments in NEUTRAL"),
    ("clock_drift.neutral_lifted", "Clock drift NEUTRAL lifted"),
    ("config_target.created", "Configuration drift target created"),
    ("config_target.updated", "Configuration drift target changed"),
    ("config_baseline.requested", "Configuration baseline proposed (approval request)"),
    ("config_baseline.approved", "Configuration baseline set (approved)"),
    ("config_finding.opened", "Configuration drift finding opened"),
    ("config_finding.resolved", "Configuration drift finding resolved"),
)
