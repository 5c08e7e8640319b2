"""Writes for the procedure library (drill runs and schedules join later)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from drills.models import Procedure, ProcedureStep, ProcedureVersion
from drills.procedure_files import ProcedureSpec
from opsportal.audit.services import audit_record


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
