"""Response roles and hand-offs."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from incidents.models import (
    Incident,
    ResponseRole,
    RoleAssignment,
    Status,
    TimelineEntry,
)
from incidents.permissions import RESPONSE_ROLE_NEEDS
from incidents.services._base import (
    lock_incident,
    name_of,
    require_permission,
    timeline_write,
    user_or_none,
)
from opsportal.audit.services import audit_record, service_entry_point
from opsportal.core.errors import Conflict, NotFound, ValidationFailed


@service_entry_point
def incident_role_assign(
    *,
    actor: Any,
    role: str,
    user: Any,
    incident_id: int | None = None,
    incident: Incident | None = None,
) -> RoleAssignment:
    """Give `user` a response role (incidents.assign_role_incident).

    Every role but "sme" has one holder: assigning it ends the current holder's
    assignment (a hand-off, kept in history). Subject-matter experts may be many.
    No-op if `user` already holds the role. Closed and declined incidents take no
    new assignments (Conflict). `user` must hold the permissions the role's work
    needs (`incidents.permissions.RESPONSE_ROLE_NEEDS`), else ValidationFailed
    ("role_not_permitted", field "user"): the auditor cannot be incident commander.
    """
    require_permission(actor, "incidents.assign_role_incident")
    if role not in ResponseRole.values:
        raise ValidationFailed("Choose a response role.", field="role")
    if user is None or not getattr(user, "is_active", False):
        raise ValidationFailed("Choose an active user.", field="user")
    missing = [p for p in RESPONSE_ROLE_NEEDS[role] if not user.has_perm(p)]
    if missing:
        raise ValidationFailed(
            f"{name_of(user)} cannot be {ResponseRole(role).label.lower()}: their portal "
            f"roles do not allow {', '.join(missing)}. Choose someone who may do that work.",
            code="role_not_permitted",
            field="user",
        )
    with transaction.atomic(durable=True):
        locked = lock_incident(incident_id, incident)
        if locked.status in (Status.CLOSED, Status.DECLINED):
            raise Conflict(
                f"A {locked.get_status_display().lower()} incident takes no role changes.",
                code="illegal_transition",
            )
        current = list(
            RoleAssignment.objects.select_for_update()
            .filter(incident=locked, role=role, ended_at__isnull=True)
            .select_related("user")
        )
        for assignment in current:
            if assignment.user_id == user.pk:
                return assignment
        now = timezone.now()
        handed_from = []
        if role != ResponseRole.SME:
            for assignment in current:
                assignment.ended_at = now
                assignment.ended_by = user_or_none(actor)
                assignment.save(update_fields=["ended_at", "ended_by"])
                handed_from.append(assignment.user)
        created = RoleAssignment(
            incident=locked,
            role=role,
            user=user,
            started_at=now,
            started_by=user_or_none(actor),
        )
        created.save(force_insert=True)
        label = ResponseRole(role).label
        body = f"{name_of(user)} is now {label.lower()}"
        if handed_from:
            body += f" (handed over from {', '.join(name_of(u) for u in handed_from)})"
        timeline_write(
            incident=locked,
            actor=actor,
            kind=TimelineEntry.Kind.ROLE_CHANGE,
            body=body,
            metadata={
                "role": role,
                "user": user.get_username(),
                "from": [u.get_username() for u in handed_from],
            },
            at=now,
        )
        audit_record(
            actor=actor,
            event_type="incident.role_assigned",
            obj=locked,
            before={"role": role, "users": [u.get_username() for u in handed_from]},
            after={"role": role, "user": user.get_username()},
        )
    return created


@service_entry_point
def incident_role_end(*, actor: Any, assignment_id: int) -> RoleAssignment:
    """End a current role assignment without a successor (e.g. an SME leaves).
    No-op if it has already ended."""
    require_permission(actor, "incidents.assign_role_incident")
    with transaction.atomic(durable=True):
        assignment = (
            RoleAssignment.objects.select_for_update()
            .select_related("user")
            .filter(pk=assignment_id)
            .first()
        )
        if assignment is None:
            raise NotFound("No such role assignment.", field="assignment")
        locked = lock_incident(assignment.incident_id, None)
        if assignment.ended_at is not None:
            return assignment
        now = timezone.now()
        assignment.ended_at = now
        assignment.ended_by = user_or_none(actor)
        assignment.save(update_fields=["ended_at", "ended_by"])
        label = ResponseRole(assignment.role).label
        timeline_write(
            incident=locked,
            actor=actor,
            kind=TimelineEntry.Kind.ROLE_CHANGE,
            body=f"{name_of(assignment.user)} is no longer {label.lower()}",
            metadata={"role": assignment.role, "user": assignment.user.get_username(), "to": None},
            at=now,
        )
        audit_record(
            actor=actor,
            event_type="incident.role_ended",
            obj=locked,
            before={"role": assignment.role, "user": assignment.user.get_username()},
        )
    return assignment
