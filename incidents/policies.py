"""Severity policies: versioned, admin-published, kept by each incident.

The current version (`severity_policy_current`) is created from the shipped default
(`incidents.severity.SEVERITIES`) the first time it is needed. Publishing
(`severity_policy_publish`) validates the levels and makes a new current version;
`severity_policy_load_alternative` publishes the other playbook's values. Existing
versions never change, so an open incident's deadlines never move.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from incidents.models import SeverityPolicy
from incidents.severity import (
    ALTERNATIVE_POLICY_LABEL,
    ALTERNATIVE_SEVERITIES,
    DEFAULT_POLICY_LABEL,
    SEV3_REVIEW_DUE_SECONDS,
    SEVERITIES,
    PolicyError,
    severities_from_json,
    severities_to_json,
)
from opsportal.audit.services import audit_record, durable_entry_point
from opsportal.core.errors import ValidationFailed
from opsportal.core.text import NOTE_MAX, text_within


def severity_policy_current() -> SeverityPolicy:
    """The current version; v1 (the shipped default) when there is none yet. Call
    inside a transaction (the incident that uses it is being opened)."""
    policy = SeverityPolicy.objects.filter(is_current=True).first()
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            policy = SeverityPolicy.objects.create(
                version=_next_version(),
                label=DEFAULT_POLICY_LABEL,
                note="Shipped default, created on first use.",
                levels=severities_to_json(SEVERITIES),
                is_current=True,
            )
            audit_record(
                actor=None,
                event_type="severity_policy.published",
                obj=policy,
                after={"version": policy.version, "label": policy.label, "levels": policy.levels},
            )
    except IntegrityError:
        # A concurrent opening created it first: use theirs.
        return SeverityPolicy.objects.get(is_current=True)
    return policy


def _next_version() -> int:
    return (SeverityPolicy.objects.aggregate(v=Max("version"))["v"] or 0) + 1


def severity_policy_publish_in_transaction(
    *, label: str, levels: Any, actor: Any, note: str = ""
) -> SeverityPolicy:
    """Validate `levels` (the JSON of incidents.severity.severities_to_json) and make
    them the current policy as a new version. ValidationFailed names the field.
    Incidents opened before keep their version."""
    label = (label or "").strip()
    if not label:
        raise ValidationFailed("Give the policy a label.", field="label")
    text_within(label, limit=200, field="label", label="The label")
    text_within(note, limit=NOTE_MAX, field="note", label="The note")
    try:
        severities = severities_from_json(levels)
    except PolicyError as exc:
        raise ValidationFailed(f"{exc.field}: {exc.message}.", field="levels") from None
    with transaction.atomic():
        previous = SeverityPolicy.objects.select_for_update().filter(is_current=True).first()
        if previous is not None:
            previous.is_current = False
            previous.save(update_fields=["is_current"])
        policy = SeverityPolicy.objects.create(
            version=_next_version(),
            label=label,
            note=(note or "").strip(),
            levels=severities_to_json(severities),
            is_current=True,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            event_type="severity_policy.published",
            obj=policy,
            before={"version": previous.version, "levels": previous.levels} if previous else None,
            after={"version": policy.version, "label": policy.label, "levels": policy.levels},
        )
    return policy


severity_policy_publish = durable_entry_point(severity_policy_publish_in_transaction)


def severity_policy_load_alternative_in_transaction(*, actor: Any) -> SeverityPolicy:
    """Publish the SEV-levels playbook's response times as the new current version."""
    return severity_policy_publish_in_transaction(
        label=ALTERNATIVE_POLICY_LABEL,
        levels=severities_to_json(ALTERNATIVE_SEVERITIES),
        actor=actor,
        note="Loaded from incident-response-playbook-sev-levels.md.",
    )


def severity_policy_load_default_in_transaction(*, actor: Any) -> SeverityPolicy:
    """Publish the shipped default again as the new current version."""
    return severity_policy_publish_in_transaction(
        label=DEFAULT_POLICY_LABEL,
        levels=severities_to_json(SEVERITIES),
        actor=actor,
        note="The shipped default (incident-response-playbook-algo-trade.md).",
    )


def severity_policy_add_sev3_review_due() -> SeverityPolicy | None:
    """Existing databases: publish a new version of the current policy in which an
    offered SEV3 review is due within two weeks (issue #10), once per database.

    Runs after every migrate (incidents' `ready()` connects it). Does nothing when
    there is no policy yet (the shipped default, created on first use, has it), when
    the current version is not one of the two shipped playbooks (an admin's policy
    is the admin's), or when any version ever had a SEV3 review deadline (done
    before, or an admin chose). Running incidents keep their version."""
    current = SeverityPolicy.objects.filter(is_current=True).first()
    if current is None or current.label not in (DEFAULT_POLICY_LABEL, ALTERNATIVE_POLICY_LABEL):
        return None
    for levels in SeverityPolicy.objects.values_list("levels", flat=True):
        if (levels or {}).get("SEV3", {}).get("review_due_seconds") is not None:
            return None
    levels = {code: dict(level) for code, level in current.levels.items()}
    if "SEV3" not in levels or levels["SEV3"].get("review_required"):
        return None
    levels["SEV3"]["review_due_seconds"] = SEV3_REVIEW_DUE_SECONDS
    with transaction.atomic():
        return severity_policy_publish_in_transaction(
            label=current.label,
            levels=levels,
            actor=None,
            note="An offered SEV3 review is due within two weeks (issue #10); "
            "closing still needs no review.",
        )


def add_sev3_review_due_after_migrate(sender: Any, **kwargs: Any) -> None:
    severity_policy_add_sev3_review_due()
