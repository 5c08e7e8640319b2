from opsportal.audit.registry import register

register(
    ("approval.requested", "Approval requested"),
    ("approval.amended", "Approval request payload amended"),
    ("approval.granted", "Approval granted"),
    ("approval.rejected", "Approval request rejected"),
    ("approval.cancelled", "Approval request cancelled"),
    ("approval.expired", "Approval request expired"),
    ("approval.executing", "Approved request claimed for execution"),
    ("approval.executed", "Approved action executed"),
    ("approval.failed", "Approved action failed at execution"),
    ("approval.refused", "Approval attempt refused"),
    ("approval.policy_changed", "Approval policy changed"),
)
