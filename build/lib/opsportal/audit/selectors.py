from __future__ import annotations

from django.db import models

from opsportal.audit.models import AuditEvent


def audit_events_for(obj: models.Model) -> models.QuerySet[AuditEvent]:
    """Events recorded about `obj`, newest first."""
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("actor")
