"""Configuration drift: checks of an environment's running configuration against its
approved baseline, findings, and the four-eyes baseline change
(`config_baseline_approve`).

A check (`config_check_run`) reads and normalises the running document outside any
transaction, then in one durable transaction stores the `ConfigCheck`; on a
difference it opens a `ConfigFinding` (what changed, old → new per path, and a
redacted backup of the running document as evidence, as the emergency handbook's
configuration backup) and one incident per environment (SEV2 when LIVE, SEV3
otherwise), both deduplicated while open; a clean check resolves the open finding
and notes it on the incident.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from incidents.models import Incident
from incidents.services import incident_open_in_transaction, timeline_entry_add_in_transaction
from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.registry import ActionSpec, PreconditionResult, register_action
from opsportal.approvals.services import approval_request_create
from opsportal.audit.services import audit_record, service_entry_point
from opsportal.controls.models import Environment
from opsportal.core.errors import DomainError, NotFound, ValidationFailed
from opsportal.drift.documents import (
    DocumentUnreadable,
    differences,
    document_sha256,
    normalise,
    read_document,
)
from opsportal.drift.models import ConfigCheck, ConfigFinding, ConfigTarget

logger = logging.getLogger(__name__)

ACTION_CONFIG_BASELINE = "config_baseline_approve"
CONFIG_PLAYBOOK = None  # no configuration playbook in the library yet
STALE_AFTER_INTERVALS = 3


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


@service_entry_point
def config_target_create(
    *, actor: Any, environment: Environment, location: str, fmt: str, interval_seconds: int = 300
) -> ConfigTarget:
    if fmt not in ConfigTarget.Format.values:
        raise ValidationFailed("Format is toml or json.", field="format")
    location = (location or "").strip()
    if not location:
        raise ValidationFailed("Give a file path or URL.", field="location")
    with transaction.atomic(durable=True):
        target = ConfigTarget.objects.create(
            environment=environment,
            location=location,
            format=fmt,
            interval_seconds=interval_seconds,
        )
        audit_record(
            actor=_user_or_none(actor),
            event_type="config_target.created",
            obj=target,
            after={"environment": environment.slug, "location": location, "format": fmt},
        )
    return target


def config_check_run(*, target_id: int) -> ConfigCheck:
    """Read the running configuration of target `target_id` and record the check."""
    target = ConfigTarget.objects.filter(pk=target_id).first()
    if target is None:
        raise NotFound(f"No configuration target {target_id}.", code="unknown_target")
    try:
        running: Any = normalise(read_document(target.location, target.format))
    except DocumentUnreadable as exc:
        running = exc
    return config_check_record(target_id=target_id, running=running)


@service_entry_point
def config_check_record(*, target_id: int, running: Any) -> ConfigCheck:
    """Store one check (`running`: the normalised document, or the reason it could
    not be read) and open or resolve the finding."""
    with transaction.atomic(durable=True):
        target = (
            ConfigTarget.objects.select_for_update()
            .select_related("environment")
            .filter(pk=target_id)
            .first()
        )
        if target is None:
            raise NotFound(f"No configuration target {target_id}.", code="unknown_target")
        now = timezone.now()
        target.last_check_at = now
        target.next_due_at = now + dt.timedelta(seconds=target.interval_seconds)
        if isinstance(running, DocumentUnreadable):
            check = ConfigCheck.objects.create(
                target=target,
                checked_at=now,
                status=ConfigCheck.Status.UNREADABLE,
                detail=str(running)[:500],
            )
        elif target.baseline is None:
            check = ConfigCheck.objects.create(
                target=target,
                checked_at=now,
                status=ConfigCheck.Status.NO_BASELINE,
                running_sha256=document_sha256(running),
            )
        else:
            changes = differences(target.baseline, running)
            sha = document_sha256(running)
            status = ConfigCheck.Status.DRIFT if changes else ConfigCheck.Status.MATCH
            check = ConfigCheck.objects.create(
                target=target,
                checked_at=now,
                status=status,
                running_sha256=sha,
                detail=f"{len(changes)} difference(s)" if changes else "",
            )
            if changes:
                _finding_open_or_update(target, running, sha, changes)
            else:
                _findings_resolve(target)
        target.last_status = check.status
        target.save(update_fields=["last_check_at", "next_due_at", "last_status", "incident_id"])
        return check


def _finding_open_or_update(
    target: ConfigTarget, running: Any, sha: str, changes: list[dict[str, Any]]
) -> None:
    finding = target.findings.filter(resolved_at__isnull=True).first()
    if finding is not None:
        if finding.running_sha256 != sha:  # drifted further: keep the latest evidence
            finding.running_sha256, finding.changes, finding.backup = sha, changes, running
            finding.save(update_fields=["running_sha256", "changes", "backup"])
            _incident_note(target, f"Configuration drifted further: {_summary(changes)}.")
        return
    finding = ConfigFinding.objects.create(
        target=target,
        baseline_sha256=target.baseline_sha256,
        running_sha256=sha,
        changes=changes,
        backup=running,
    )
    env = target.environment
    body = (
        f"Running configuration of {env.slug} differs from its approved baseline "
        f"({target.baseline_sha256[:12]}…): {_summary(changes)}."
    )
    if not (target.incident_id and Incident.objects.open().filter(pk=target.incident_id).exists()):
        target.incident_id = _incident_open(target, body)
    else:
        _incident_note(target, body)
    finding.incident_id = target.incident_id
    finding.save(update_fields=["incident_id"])
    audit_record(
        actor=None,
        event_type="config_finding.opened",
        obj=finding,
        after={"environment": env.slug, "paths": [c["path"] for c in changes][:50]},
    )


def _summary(changes: list[dict[str, Any]]) -> str:
    shown = ", ".join(c["path"] for c in changes[:10])
    more = f" and {len(changes) - 10} more" if len(changes) > 10 else ""
    return f"{len(changes)} path(s) changed: {shown}{more}"


def _findings_resolve(target: ConfigTarget) -> None:
    now = timezone.now()
    for finding in target.findings.filter(resolved_at__isnull=True):
        finding.resolved_at = now
        finding.save(update_fields=["resolved_at"])
        audit_record(actor=None, event_type="config_finding.resolved", obj=finding)
        _incident_note(
            target,
            f"Configuration of {target.environment.slug} matches its approved baseline again: "
            f"finding of {finding.opened_at:%Y-%m-%d %H:%M} UTC resolved.",
        )


def _incident_open(target: ConfigTarget, body: str) -> int | None:
    env = target.environment
    severity = "SEV2" if env.mode == Environment.Mode.LIVE else "SEV3"
    try:
        with transaction.atomic():
            incident = incident_open_in_transaction(
                actor=None,
                title=f"Configuration drift on {env.slug}"[:200],
                severity=severity,
                summary=body,
                environment=env,
                affected_systems=f"configuration {target.location}"[:200],
            )
    except (DomainError, DatabaseError) as exc:
        logger.error("drift.config_incident_failed", extra={"env": env.slug, "error": repr(exc)})
        return None
    return incident.pk


def _incident_note(target: ConfigTarget, body: str) -> None:
    incident = (
        Incident.objects.filter(pk=target.incident_id).first() if target.incident_id else None
    )
    if incident is None:
        return
    try:
        with transaction.atomic():
            timeline_entry_add_in_transaction(
                incident=incident,
                actor=None,
                kind="control",
                body=body,
                metadata={"config_target": target.pk},
            )
    except (DomainError, DatabaseError) as exc:
        logger.error("drift.config_note_failed", extra={"target": target.pk, "error": repr(exc)})


# --- the approved baseline: four eyes ---


def config_baseline_propose(
    *, environment: Environment, actor: Any, reason: str
) -> ApprovalRequest:
    """Propose the environment's running configuration (read now, normalised and
    redacted) as its new baseline: a `config_baseline_approve` approval request whose
    payload is the document and its SHA-256. Nothing changes until a risk officer
    other than the requester approves."""
    target = ConfigTarget.objects.filter(environment=environment).first()
    if target is None:
        raise NotFound(f"No configuration is watched for {environment.slug}.", code="no_target")
    try:
        document = normalise(read_document(target.location, target.format))
    except DocumentUnreadable as exc:
        raise ValidationFailed(f"The running configuration cannot be read: {exc}") from None
    return approval_request_create(
        action=ACTION_CONFIG_BASELINE,
        target=target,
        reason=reason,
        payload={"sha256": document_sha256(document), "document": document},
        actor=actor,
    )


def _baseline_preconditions(target: ConfigTarget, payload: dict) -> list[PreconditionResult]:
    document = payload.get("document")
    ok = isinstance(document, dict) and document_sha256(document) == payload.get("sha256")
    return [
        PreconditionResult(
            "baseline_hash", "The document matches its SHA-256", ok, str(payload.get("sha256"))
        )
    ]


def _baseline_execute(target: ConfigTarget, payload: dict, request: ApprovalRequest) -> dict:
    target = ConfigTarget.objects.select_for_update().get(pk=target.pk)
    before = target.baseline_sha256
    target.baseline = payload["document"]
    target.baseline_sha256 = payload["sha256"]
    target.baseline_approval_request_id = request.pk
    target.baseline_set_at = timezone.now()
    target.next_due_at = timezone.now()  # check against the new baseline at once
    target.save(
        update_fields=[
            "baseline",
            "baseline_sha256",
            "baseline_approval_request_id",
            "baseline_set_at",
            "next_due_at",
        ]
    )
    audit_record(
        actor=None,
        event_type="config_baseline.approved",
        obj=target,
        before={"sha256": before},
        after={"sha256": target.baseline_sha256},
        metadata={"approval_request": request.pk},
    )
    return {"baseline_sha256": target.baseline_sha256}


def _lookup(slug: str) -> ConfigTarget | None:
    return ConfigTarget.objects.filter(environment__slug=slug).first()


def register() -> None:
    register_action(
        ActionSpec(
            action=ACTION_CONFIG_BASELINE,
            label="Set a configuration baseline",
            target_model="drift.configtarget",
            request_permission="drift.propose_configbaseline",
            preconditions=_baseline_preconditions,
            execute=_baseline_execute,
            target_lookup=_lookup,
        )
    )


def config_precondition(environment: Environment) -> PreconditionResult:
    """Going LIVE needs the configuration to match its approved baseline, checked
    within three intervals (with no configuration watched for the environment the
    line passes and says so). One query."""
    label = "Configuration matches its approved baseline"
    target = ConfigTarget.objects.filter(environment=environment).first()
    if target is None:
        return PreconditionResult("config_baseline", label, True, "no configuration is watched")
    if target.last_status != ConfigCheck.Status.MATCH:
        return PreconditionResult(
            "config_baseline", label, False, f"last check: {target.last_status or 'never'}"
        )
    age = timezone.now() - (target.last_check_at or timezone.now())
    if age > dt.timedelta(seconds=STALE_AFTER_INTERVALS * target.interval_seconds):
        return PreconditionResult("config_baseline", label, False, "last check too old")
    return PreconditionResult("config_baseline", label, True, "matches")
