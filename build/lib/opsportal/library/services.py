"""Writes for the procedure library and checklists.

The public services own their transaction (service entry points); the ones other
services compose into theirs have an `_in_transaction` variant:
`procedure_publish_in_transaction` (a revision publishes inside its own transaction),
`checklist_instantiate_in_transaction` (a checklist is made as part of another change)
and `checklist_item_tick_in_transaction` (the target's app checks its own rules first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from opsportal.audit.services import audit_record, durable_entry_point, service_entry_point
from opsportal.core.errors import Conflict, NotFound, ValidationFailed
from opsportal.core.text import COMMENT_MAX, text_within
from opsportal.library.models import (
    Checklist,
    ChecklistItem,
    Procedure,
    ProcedureStep,
    ProcedureVersion,
)
from opsportal.library.procedure_files import TOP_KEYS, ProcedureSpec, parse_procedure

# What a revision may change. The slug and kind are the procedure's identity:
# a different one is a different procedure (a new data file).
REVISABLE_FIELDS = frozenset(TOP_KEYS - {"slug", "kind"})


@dataclass(frozen=True)
class LoadResult:
    created: list[str]
    unchanged: list[str]
    # Procedures whose published version was revised in the portal after their file
    # was last loaded: the (unchanged) file does not overwrite the revision.
    kept_revised: list[str] = field(default_factory=list)


def procedure_publish_in_transaction(
    *, spec: ProcedureSpec, actor: Any = None
) -> tuple[ProcedureVersion, bool]:
    """Publish `spec` as the procedure's current version.

    If the published version already has this content (same SHA-256) nothing
    changes and `(version, False)` is returned. Otherwise a new version number is
    created and published, the previous published version is retired, and
    `(new_version, True)` is returned. Records that used older versions keep them.
    Runs in the caller's transaction (`procedure_revise` publishes in its own);
    `procedure_publish` is the entry point that owns its transaction.
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


procedure_publish = durable_entry_point(procedure_publish_in_transaction)


@service_entry_point
def procedure_library_load(*, specs: list[ProcedureSpec], actor: Any = None) -> LoadResult:
    """Publish every spec (idempotent: unchanged files create nothing).

    A file publishes only content the library does not already hold as an older
    version when the current version was revised in the portal (it has a creator;
    the loader publishes without one). So reloading an unchanged file never undoes
    an admin's revision, while an edited file (new content) still supersedes it.
    Each procedure is published in a transaction of its own (`procedure_publish`), so
    call it outside any transaction.
    """
    created: list[str] = []
    unchanged: list[str] = []
    kept: list[str] = []
    for spec in specs:
        current = ProcedureVersion.objects.filter(
            procedure__slug=spec.slug, status=ProcedureVersion.Status.PUBLISHED
        ).first()
        if (
            current is not None
            and current.created_by_id is not None
            and current.content_sha256 != spec.content_sha256
            and ProcedureVersion.objects.filter(
                procedure_id=current.procedure_id, content_sha256=spec.content_sha256
            ).exists()
        ):
            kept.append(f"{spec.slug} v{current.version}")
            continue
        version, is_new = procedure_publish(spec=spec, actor=actor)
        (created if is_new else unchanged).append(f"{spec.slug} v{version.version}")
    return LoadResult(created=created, unchanged=unchanged, kept_revised=kept)


def procedure_version_spec(version: ProcedureVersion) -> ProcedureSpec:
    """The spec a stored version was published from (its steps included).

    Round-trips: `procedure_version_spec(v).content_sha256 == v.content_sha256` for
    a version published from a spec.
    """
    steps = []
    for step in version.steps.all():
        data: dict[str, Any] = {
            key: getattr(step, key)
            for key in ("scenario", "title", "instruction", "expected_result", "pass_rule")
            if getattr(step, key)
        }
        if step.time_target_seconds is not None:
            data["time_target_seconds"] = step.time_target_seconds
        steps.append(data)
    return ProcedureSpec(
        slug=version.procedure.slug,
        kind=version.procedure.kind,
        title=version.title,
        summary=version.summary,
        source=version.source,
        severity=version.severity,
        pre_checklist=list(version.pre_checklist),
        pass_criteria=version.pass_criteria,
        signoff_roles=list(version.signoff_roles),
        steps=steps,
    )


@service_entry_point
def procedure_revise(*, version_id: int, actor: Any, changes: dict[str, Any]) -> ProcedureVersion:
    """Publish a revision of a published procedure version as its next version.

    "Editing a published procedure makes a new version; runs keep theirs": the
    version `version_id` is never modified (nor its steps, which checklists and drill
    runs point at); the revision is its spec with `changes` applied, validated like a
    data file, published with `procedure_publish_in_transaction` (which retires the old
    version) and recorded as a `procedure.revised` audit event besides
    `procedure.published`. Owns its transaction.

    Args:
        version_id: the ProcedureVersion to revise; it must be the published one, so
            two people revising at once cannot silently drop each other's edits.
        actor: the user revising (recorded as the new version's creator).
        changes: new values by top-level key of the file format (title, summary,
            source, severity, pre_checklist, pass_criteria, signoff_roles, steps);
            `steps` replaces the whole list.

    Raises:
        NotFound: no such version.
        ValidationFailed: an unknown or unrevisable key, a value the file format
            rejects (the error's field names it), or changes that change nothing.
        Conflict: the version is not the published one (revise the current version).
    """
    if not isinstance(changes, dict) or not changes:
        raise ValidationFailed("The revision changes nothing.", code="no_change", field="changes")
    for key in sorted(changes):
        if key not in REVISABLE_FIELDS:
            raise ValidationFailed(
                f"'{key}' cannot be revised (revisable: {', '.join(sorted(REVISABLE_FIELDS))}).",
                code="not_revisable",
                field=key,
            )
    with transaction.atomic(durable=True):
        version = ProcedureVersion.objects.select_related("procedure").filter(pk=version_id).first()
        if version is None:
            raise NotFound("No such procedure version.", field="version_id")
        # Lock the procedure first: procedure_publish_in_transaction takes the same lock, and the
        # published-version check below must not race a concurrent revision.
        Procedure.objects.select_for_update().get(pk=version.procedure_id)
        version.refresh_from_db(fields=["status"])
        if version.status != ProcedureVersion.Status.PUBLISHED:
            raise Conflict(
                f"{version} is {version.get_status_display().lower()}; revise the "
                "published version of this procedure.",
                code="stale_version",
                field="version_id",
            )
        base = procedure_version_spec(version)
        spec = parse_procedure(
            {**base.as_dict(), **changes}, origin=f"{base.slug} v{version.version} revision"
        )
        if spec.content_sha256 == base.content_sha256:
            raise ValidationFailed(
                "The revision changes nothing.", code="no_change", field="changes"
            )
        revised, _ = procedure_publish_in_transaction(spec=spec, actor=actor)
        audit_record(
            actor=actor,
            event_type="procedure.revised",
            obj=revised,
            before={"version": version.version, "content_sha256": version.content_sha256},
            after={"version": revised.version, "content_sha256": revised.content_sha256},
            metadata={"changed": sorted(changes)},
        )
    return revised


def checklist_instantiate_in_transaction(
    *, procedure_slug: str, target: models.Model, actor: Any
) -> Checklist:
    """Make a checklist of the currently published version of `procedure_slug` for
    `target` (any saved model instance): one unticked item per step.

    Raises NotFound if the procedure has no published version (run load_procedures).
    Runs in the caller's transaction: a checklist is always made as part of another
    change (an incident opened, a mode changed).
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


def checklist_item_tick_in_transaction(
    *, item_id: int, actor: Any, note: str = ""
) -> ChecklistItem:
    """Mark a checklist item done by `actor` now, with an optional note.

    Idempotent: ticking a done item changes nothing and returns it. Raises NotFound
    for an unknown item. The caller checks the actor may work on the checklist's
    target (e.g. the incident's change permission). Runs in the caller's transaction
    (`incidents.services.incident_checklist_item_tick` checks the incident under its
    lock first); `checklist_item_tick` is the entry point that owns its transaction.
    """
    text_within(note, limit=COMMENT_MAX, field="note", label="The note")
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


checklist_item_tick = durable_entry_point(checklist_item_tick_in_transaction)
