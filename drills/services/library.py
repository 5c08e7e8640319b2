"""Writes for the procedure library and checklists (drill runs and schedules join later)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from drills.models.library import (
    Checklist,
    ChecklistItem,
    Procedure,
    ProcedureStep,
    ProcedureVersion,
)
from drills.procedure_files import ProcedureSpec
from opsportal.audit.services import audit_record
from opsportal.errors import NotFound


@dataclass(frozen=True)
class LoadResult:
    created: list[str]
    unchanged: list[str]


def procedure_publish(*, spec: ProcedureSpec, actor: Any = None) -> tuple[ProcedureVersion, bool]:
    """Publish `spec` as the procedure's current version.

    If the published version already has this content (same SHA-256) nothing
    changes and `(version, False)` is returned. Otherwise a new version number is
    created and published, the previous published version is retired, and
    `(new_version, True)` is returned. Records that used older versions keep them.
    """
    with transaction.atomic():
        procedure, _ = Procedure.objects.select_for_update().get_or_create(
            slug=spec.slug, defaults={"kind": spec.kind, "title": spec.title}
        )
        # Lock the procedure row: two loaders running at once publish one version.
        procedure = Procedure.objects.select_for_update().get(pk=procedure.pk)
        current = procedure.versions.filter(status=ProcedureVersion.Status.PUBLISHED).first()
        if current is not None and current.content_sha256 == spec.content_sha256:
            return current, False
        if current is not None:
            current.status = ProcedureVersion.Status.RETIRED
            current.save(update_fields=["status"])
        last = procedure.versions.order_by("-version").values_list("version", flat=True).first()
        version = ProcedureVersion.objects.create(
            procedure=procedure,
            version=(last or 0) + 1,
            status=ProcedureVersion.Status.PUBLISHED,
            title=spec.title,
            summary=spec.summary,
            source=spec.source,
            severity=spec.severity,
            pre_checklist=spec.pre_checklist,
            pass_criteria=spec.pass_criteria,
            signoff_roles=spec.signoff_roles,
            content_sha256=spec.content_sha256,
            published_at=timezone.now(),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        ProcedureStep.objects.bulk_create(
            ProcedureStep(
                version=version,
                position=position,
                scenario=step.get("scenario", ""),
                title=step["title"],
                instruction=step["instruction"],
                expected_result=step.get("expected_result", ""),
                time_target_seconds=step.get("time_target_seconds"),
                pass_rule=step.get("pass_rule", ""),
            )
            for position, step in enumerate(spec.steps, start=1)
        )
        changed = {"kind": spec.kind, "title": spec.title}
        if procedure.kind != spec.kind or procedure.title != spec.title:
            procedure.kind, procedure.title = spec.kind, spec.title
            procedure.save(update_fields=["kind", "title"])
        audit_record(
            actor=actor,
            event_type="procedure.published",
            obj=version,
            before={"version": current.version} if current else None,
            after={"version": version.version, "content_sha256": spec.content_sha256, **changed},
        )
        return version, True


def procedure_library_load(*, specs: list[ProcedureSpec], actor: Any = None) -> LoadResult:
    """Publish every spec (idempotent: unchanged files create nothing)."""
    created, unchanged = [], []
    for spec in specs:
        version, is_new = procedure_publish(spec=spec, actor=actor)
        (created if is_new else unchanged).append(f"{spec.slug} v{version.version}")
    return LoadResult(created=created, unchanged=unchanged)


def checklist_instantiate(*, procedure_slug: str, target: models.Model, actor: Any) -> Checklist:
    """Make a checklist of the currently published version of `procedure_slug` for
    `target` (any saved model instance): one unticked item per step.

    Raises NotFound if the procedure has no published version (run load_procedures).
    Runs in the caller's transaction when there is one.
    """
    version = (
        ProcedureVersion.objects.filter(
            procedure__slug=procedure_slug, status=ProcedureVersion.Status.PUBLISHED
        )
        .prefetch_related("steps")
        .first()
    )
    if version is None:
        raise NotFound(
            f"No published procedure '{procedure_slug}'. Load the library with "
            "`python manage.py load_procedures`.",
            code="procedure_not_found",
            field="procedure",
        )
    with transaction.atomic():
        checklist = Checklist.objects.create(
            procedure_version=version,
            target_type=ContentType.objects.get_for_model(target),
            target_id=str(target.pk),
            created_at=timezone.now(),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        ChecklistItem.objects.bulk_create(
            ChecklistItem(checklist=checklist, step=step, position=step.position)
            for step in version.steps.all()
        )
        audit_record(
            actor=actor,
            event_type="checklist.created",
            obj=checklist,
            after={
                "procedure": procedure_slug,
                "version": version.version,
                "target": f"{target._meta.label_lower}:{target.pk}",
            },
        )
    return checklist


def checklist_item_tick(*, item_id: int, actor: Any, note: str = "") -> ChecklistItem:
    """Mark a checklist item done by `actor` now, with an optional note.

    Idempotent: ticking a done item changes nothing and returns it. Raises NotFound
    for an unknown item. The caller checks the actor may work on the checklist's
    target (e.g. the incident's change permission).
    """
    with transaction.atomic():
        item = ChecklistItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise NotFound("No such checklist item.", field="item")
        if item.done_at is not None:
            return item
        item.done_at = timezone.now()
        item.done_by = actor
        item.note = note.strip()
        item.save(update_fields=["done_at", "done_by", "note"])
        audit_record(
            actor=actor,
            event_type="checklist.item_ticked",
            obj=item.checklist,
            after={"position": item.position, "note": item.note},
        )
    return item
