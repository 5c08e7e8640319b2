from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        # audit_events and notices register their event types and notification kinds.
        from incidents import audit_events, control_events, notices  # noqa: F401
        from incidents.permissions import ROLE_GRANTS
        from opsportal.accounts.roles import register_role_grants

        register_role_grants(self.label, ROLE_GRANTS)
        # Existing databases get the SEV3 review deadline as a new policy version
        # (imported here: policies needs the models, loaded only now).
        from incidents.policies import add_sev3_review_due_after_migrate

        post_migrate.connect(
            add_sev3_review_due_after_migrate,
            sender=self,
            dispatch_uid="incidents.policies.sev3_review_due",
        )
        # Reviews: signable (signing) and their overdue notification kinds (notify).
        from incidents.reviews import notify, signing  # noqa: F401

        # What incidents do when the kill switch trips or the mode changes.
        control_events.register()
        # A failed audit-chain verification opens a SEV1.
        from incidents.audit_failures import on_verification_failed
        from opsportal.audit.services import register_verification_failure_listener

        register_verification_failure_listener(on_verification_failed)
        # What an audit export carries from incidents (runbook 7, audit extraction).
        from incidents.models import Incident, StatusUpdate, TimelineEntry
        from opsportal.audit.exports import register_export_table

        register_export_table("incidents", Incident, "created_at")
        register_export_table("incident_timeline", TimelineEntry, "occurred_at")
        register_export_table("incident_status_updates", StatusUpdate, "posted_at")
        # Reviews and their action items are evidence too (models loaded only now).
        from incidents.reviews.models import ActionItem, PostIncidentReview

        register_export_table("post_incident_reviews", PostIncidentReview, "created_at")
        register_export_table("action_items", ActionItem, "created_at")
