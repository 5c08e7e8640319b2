from opsportal.audit.registry import register

register(
    ("report.requested", "Report requested"),
    ("report.started", "Report generation started"),
    ("report.generated", "Report generated (files stored with their SHA-256)"),
    ("report.failed", "Report generation failed"),
    ("report.downloaded", "Report file downloaded"),
)
