"""The report kinds: how each validates its parameters, names itself and builds its
document. One registry, filled here (reports is the top domain layer, so it imports
the apps it reports on directly)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drills.models import DrillRun
from incidents.models import Incident
from incidents.reviews.models import PostIncidentReview
from opsportal.controls.models import ModeChange
from opsportal.core.errors import NotFound, ValidationFailed
from opsportal.reports.document import Document
from opsportal.reports.models import Kind
from opsportal.reports.sections import drill, incident, monthly, review, rollback

# The longest range a monthly/compliance report may cover (one query set whatever the
# range, but a decade of weekly chart bars helps nobody).
MAX_RANGE_DAYS = 400


@dataclass(frozen=True)
class KindSpec:
    kind: str
    label: str
    clean: Callable[[dict[str, Any]], dict[str, Any]]  # raw -> canonical parameters
    title: Callable[[dict[str, Any]], str]
    build: Callable[[dict[str, Any]], Document]


_KINDS: dict[str, KindSpec] = {}


def register_kind(spec: KindSpec) -> None:
    _KINDS[spec.kind] = spec


def get_kind(kind: str) -> KindSpec:
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValidationFailed(
            f"Unknown report kind {kind!r}: one of {', '.join(Kind.values)}.", field="kind"
        ) from None


def _positive_int(raw: Any, field: str, label: str) -> int:
    text = str(raw).strip() if raw is not None else ""
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise ValidationFailed(f"{label} must be a positive whole number.", field=field)
    return int(text)


def _date(raw: Any, field: str) -> dt.date:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise ValidationFailed("Give the date as YYYY-MM-DD.", field=field) from None


def clean_range(params: dict[str, Any]) -> dict[str, Any]:
    start, end = _date(params.get("from"), "from"), _date(params.get("to"), "to")
    if end < start:
        raise ValidationFailed("The range ends before it starts.", field="to")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed(f"A range covers at most {MAX_RANGE_DAYS} days.", field="to")
    return {"from": start.isoformat(), "to": end.isoformat()}


def clean_incident(params: dict[str, Any]) -> dict[str, Any]:
    ref = str(params.get("incident") or "").strip()
    if not ref:
        raise ValidationFailed("Name the incident (its reference or number).", field="incident")
    return {"incident": _incident_of(ref).pk}


def clean_drill(params: dict[str, Any]) -> dict[str, Any]:
    pk = _positive_int(params.get("drill_run"), "drill_run", "The drill run")
    if not DrillRun.objects.filter(pk=pk).exists():
        raise NotFound(f"No drill run #{pk}.", field="drill_run")
    return {"drill_run": pk}


def clean_rollback(params: dict[str, Any]) -> dict[str, Any]:
    pk = _positive_int(params.get("mode_change"), "mode_change", "The rollback")
    if not ModeChange.objects.filter(pk=pk, kind=ModeChange.Kind.ROLLBACK).exists():
        raise NotFound(f"No rollback #{pk} (a LIVE → DRY_RUN mode change).", field="mode_change")
    return {"mode_change": pk}


def _incident_of(ref: str) -> Incident:
    query = Incident.objects.filter(pk=int(ref)) if ref.isdigit() and len(ref) < 19 else None
    incident = (query.first() if query is not None else None) or Incident.objects.filter(
        reference__iexact=ref[:20]
    ).first()
    if incident is None:
        raise NotFound(f"No incident {ref[:40]!r}.", field="incident")
    return incident


def clean_review(params: dict[str, Any]) -> dict[str, Any]:
    """The review by its id (`review`), or the incident's latest revision (`incident`)."""
    if params.get("review") not in (None, ""):
        pk = _positive_int(params.get("review"), "review", "The review")
        if not PostIncidentReview.objects.filter(pk=pk).exists():
            raise NotFound(f"No post-incident review #{pk}.", field="review")
        return {"review": pk}
    ref = str(params.get("incident") or "").strip()
    if not ref:
        raise ValidationFailed(
            "Name the review (its number) or its incident (reference or number).",
            field="incident",
        )
    incident = _incident_of(ref)
    latest = (
        PostIncidentReview.objects.filter(incident=incident)
        .order_by("-revision")
        .values_list("pk", flat=True)
        .first()
    )
    if latest is None:
        raise NotFound(f"{incident.reference} has no post-incident review yet.", field="incident")
    return {"review": latest}


def all_kinds() -> list[KindSpec]:
    return list(_KINDS.values())


def _register_all() -> None:
    register_kind(
        KindSpec(Kind.INCIDENT, Kind.INCIDENT.label, clean_incident, incident.title, incident.build)
    )
    register_kind(
        KindSpec(Kind.REVIEW, Kind.REVIEW.label, clean_review, review.title, review.build)
    )
    register_kind(KindSpec(Kind.DRILL, Kind.DRILL.label, clean_drill, drill.title, drill.build))
    register_kind(
        KindSpec(Kind.ROLLBACK, Kind.ROLLBACK.label, clean_rollback, rollback.title, rollback.build)
    )
    register_kind(
        KindSpec(Kind.MONTHLY, Kind.MONTHLY.label, clean_range, monthly.title, monthly.build)
    )


_register_all()
