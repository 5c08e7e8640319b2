"""Every write to a post-incident review and its action items.

Same conventions as `incidents.services`: keyword arguments and an explicit `actor`
(None = the system), the permission checked first, a durable transaction
(`service_entry_point`), the review row locked, `update_fields`, one timeline entry
and one audit event per change. Approval is not here: the sign-off service makes it
when the second valid sign-off lands (`incidents.reviews.signing`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident, Status, TimelineEntry
from incidents.reviews.content import live_review_content
from incidents.reviews.models import (
    MAX_ACTION_ITEMS,
    MAX_FACTORS,
    MAX_TIMELINE_PICKS,
    MAX_WHYS,
    ActionItem,
    ControlObjective,
    PostIncidentReview,
    ReviewState,
    overdue_action_items,
)
from incidents.reviews.notify import (
    ACTION_ITEM_DUE_WITHIN_HOURS,
    ACTION_ITEM_OVERDUE,
    REVIEW_OVERDUE,
    notify_action_item_due,
    notify_overdue,
    notify_review_due,
)
from incidents.services._base import (
    current_commander,
    lock_incident,
    require_permission,
    timeline_write,
    user_or_none,
)
from opsportal.audit.services import audit_record, service_entry_point
from opsportal.core.errors import Conflict, NotFound, ValidationFailed
from opsportal.core.text import NOTE_MAX, SUMMARY_MAX, reason_given, text_within

logger = logging.getLogger(__name__)

WHY_MAX = 2_000
TITLE_MAX = 200
LINK_MAX = 500

# The timeline entries a review's excerpt starts with: detection (the opening),
# acknowledgement, mitigation and resolution (transitions), and kill-switch events.
KEY_TRANSITIONS = {"acknowledge", "mitigate", "resolve"}


def _lock_review(review_id: int) -> PostIncidentReview:
    review = (
        PostIncidentReview.objects.select_for_update()
        .select_related("incident")
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        raise NotFound("No such post-incident review.", field="review")
    return review


def _require_state(review: PostIncidentReview, *states: str, doing: str) -> None:
    if review.state not in states:
        raise Conflict(
            f"The review is {review.get_state_display().lower()}; it cannot be {doing} now.",
            code="review_state",
        )


def _require_current(review: PostIncidentReview) -> None:
    if PostIncidentReview.objects.filter(supersedes=review).exists():
        raise Conflict(
            f"Revision {review.revision} has been corrected by a later revision; "
            "work on the latest one.",
            code="review_superseded",
        )


def key_timeline_ids(incident: Incident) -> list[int]:
    """The timeline entries pre-selected for the excerpt: the first entry (detection),
    acknowledgement, mitigation and resolution, and kill-switch (control) events."""
    picked = []
    entries = list(incident.timeline.order_by("occurred_at", "id"))
    for index, entry in enumerate(entries):
        verb = (entry.metadata or {}).get("verb")
        if (
            index == 0
            or entry.kind == TimelineEntry.Kind.CONTROL
            or (entry.kind == TimelineEntry.Kind.TRANSITION and verb in KEY_TRANSITIONS)
        ):
            picked.append(entry.pk)
    return picked


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s" if hours else f"{minutes}m {seconds:02d}s"


def impact_prefill(incident: Incident) -> str:
    """The impact section's first draft, from the incident's impact fields and times."""
    halted = "no"
    if incident.trading_halted:
        halt_from = incident.mitigated_at or incident.detected_at
        halt_to = incident.resolved_at or timezone.now()
        halted = f"yes, for about {_duration(halt_to - halt_from)}"
    mitigate = incident.mitigated_at - incident.detected_at if incident.mitigated_at else None
    pnl = (
        f"{incident.pnl_impact} {incident.pnl_currency}"
        if incident.pnl_impact is not None
        else "not recorded"
    )
    lines = [
        f"Severity: {incident.sev.label}",
        f"Time to acknowledge: {_duration(incident.time_to_acknowledge)}",
        f"Time to mitigate: {_duration(mitigate)}",
        f"Time to resolve: {_duration(incident.time_to_resolve)}",
        f"Trading halted: {halted}",
        f"P&L impact: {pnl}",
        f"Orders affected: {incident.orders_affected if incident.orders_affected is not None else 'not recorded'}",  # noqa: E501
        f"Affected systems: {incident.affected_systems or 'not recorded'}",
    ]
    return "\n".join(lines)


def review_due_at(incident: Incident, base: datetime | None = None) -> datetime | None:
    """resolved_at (or `base`) + the severity's review deadline; None when it has none."""
    seconds = incident.sev.review_due_seconds
    start = incident.resolved_at or base
    if not seconds or start is None:
        return None
    return start + timedelta(seconds=seconds)


def _create(incident: Incident, *, actor: Any, author: Any, required: bool) -> PostIncidentReview:
    now = timezone.now()
    review = PostIncidentReview(
        incident=incident,
        revision=1,
        required=required,
        author=user_or_none(author),
        created_at=now,
        updated_at=now,
        due_at=review_due_at(incident, base=now),
        impact=impact_prefill(incident),
        timeline_entry_ids=key_timeline_ids(incident),
    )
    review.save(force_insert=True)
    due = f", due {review.due_at:%Y-%m-%d %H:%M} UTC" if review.due_at else ""
    kind = "required" if required else "offered"
    timeline_write(
        incident=incident,
        actor=actor,
        kind=TimelineEntry.Kind.REVIEW,
        body=f"Post-incident review started ({kind}{due}).",
        metadata={"review": review.pk, "event": "created"},
        at=now,
    )
    audit_record(
        actor=actor,
        event_type="incident_review.created",
        obj=review,
        after={"incident": incident.reference, "required": required, "due_at": review.due_at},
    )
    notify_review_due(
        review=review, commander=current_commander(incident), actor=actor, required=required
    )
    return review


@service_entry_point
def review_ensure_for_resolved(*, incident_id: int) -> PostIncidentReview | None:
    """Run on commit of a resolution: create the review the severity requires, unless
    the incident already has one (a reopened-and-resolved incident keeps its review).
    The author is the current incident commander, else whoever resolved it. Safe to
    run twice."""
    with transaction.atomic(durable=True):
        incident = lock_incident(incident_id, None)
        if incident.status != Status.RESOLVED or not incident.sev.review_required:
            return None
        if incident.reviews.exists():
            return None
        author = current_commander(incident) or incident.resolved_by
        review = _create(incident, actor=None, author=author, required=True)
    logger.info("incident_review.created", extra={"incident": incident.reference})
    return review


@service_entry_point
def review_start(*, incident_id: int, actor: Any) -> PostIncidentReview:
    """An incident commander starts a review of any incident (offered unless the
    severity requires one). Conflict when the incident already has one."""
    require_permission(actor, "incidents.start_postincidentreview")
    with transaction.atomic(durable=True):
        incident = lock_incident(incident_id, None)
        if incident.status == Status.DECLINED:
            raise Conflict("A declined incident (false positive) needs no review.", code="declined")
        existing = incident.reviews.order_by("-revision").first()
        if existing is not None:
            raise Conflict(
                f"{incident.reference} already has a review (revision {existing.revision}).",
                code="review_exists",
            )
        return _create(incident, actor=actor, author=actor, required=incident.sev.review_required)


@dataclass
class ActionItemInput:
    """One action item row of the review editor; `id` None makes a new one."""

    title: str
    owner_id: int
    due_on: date
    kind: str = ActionItem.Kind.CORRECTIVE
    priority: str = ActionItem.Priority.MEDIUM
    link: str = ""
    id: int | None = None


def _clean_whys(whys: list[dict[str, Any]]) -> list[dict[str, str]]:
    if len(whys) > MAX_WHYS:
        raise ValidationFailed(f"At most {MAX_WHYS} whys.", code="too_many", field="whys")
    cleaned = []
    for n, why in enumerate(whys, start=1):
        question = text_within(
            str(why.get("question") or "").strip(), limit=WHY_MAX, field="whys", label=f"Why {n}"
        )
        answer = text_within(
            str(why.get("answer") or "").strip(),
            limit=WHY_MAX,
            field="whys",
            label=f"The answer to why {n}",
        )
        if not question and not answer:
            continue  # an empty row of the formset
        if not question or not answer:
            raise ValidationFailed(
                f"Why {n} needs both a question and an answer.", code="incomplete", field="whys"
            )
        cleaned.append({"question": question, "answer": answer})
    return cleaned


def _clean_factors(factors: list[dict[str, Any]]) -> list[dict[str, str]]:
    if len(factors) > MAX_FACTORS:
        raise ValidationFailed(
            f"At most {MAX_FACTORS} contributing factors.", code="too_many", field="factors"
        )
    cleaned = []
    for n, factor in enumerate(factors, start=1):
        description = text_within(
            str(factor.get("description") or "").strip(),
            limit=WHY_MAX,
            field="factors",
            label=f"Contributing factor {n}",
        )
        if not description:
            continue
        objective = str(factor.get("objective") or "")
        if objective not in ControlObjective.values:
            raise ValidationFailed(
                f"Contributing factor {n} needs a control objective "
                f"({', '.join(ControlObjective.labels).lower()}).",
                code="invalid",
                field="factors",
            )
        cleaned.append({"description": description, "objective": objective})
    return cleaned


def _clean_item(n: int, item: ActionItemInput) -> ActionItemInput:
    item.title = text_within(
        (item.title or "").strip(), limit=TITLE_MAX, field="action_items", label=f"Action {n}"
    )
    if not item.title:
        raise ValidationFailed(f"Action {n} needs a title.", code="required", field="action_items")
    if item.kind not in ActionItem.Kind.values:
        raise ValidationFailed(f"Action {n}: unknown type.", code="invalid", field="action_items")
    if item.priority not in ActionItem.Priority.values:
        raise ValidationFailed(
            f"Action {n}: unknown priority.", code="invalid", field="action_items"
        )
    item.link = text_within(
        (item.link or "").strip(), limit=LINK_MAX, field="action_items", label=f"Action {n}'s link"
    )
    if item.link:
        try:
            URLValidator(schemes=["http", "https"])(item.link)
        except ValidationError:
            raise ValidationFailed(
                f"Action {n}'s link must be an http(s) URL.", code="invalid", field="action_items"
            ) from None
    if not get_user_model().objects.filter(pk=item.owner_id, is_active=True).exists():
        raise ValidationFailed(
            f"Action {n}'s owner is not an active user.", code="invalid", field="action_items"
        )
    return item


@service_entry_point
def review_update(
    *,
    review_id: int,
    actor: Any,
    summary: str = "",
    impact: str = "",
    timeline_entry_ids: list[int] | None = None,
    whys: list[dict[str, Any]] | None = None,
    root_cause: str = "",
    factors: list[dict[str, Any]] | None = None,
    went_well: str = "",
    went_poorly: str = "",
    lessons: str = "",
    verification_plan: str = "",
    action_items: list[ActionItemInput] | None = None,
) -> PostIncidentReview:
    """Replace a draft's content (the editor saves every section at once). The action
    items given are the review's list: rows with an id are updated, rows without one
    are created, open items of this review left out are removed. Conflict unless the
    review is a draft (an approved review is locked: correct it with `review_revise`)."""
    require_permission(actor, "incidents.change_postincidentreview")
    texts = {
        "summary": (summary, SUMMARY_MAX, "The summary"),
        "impact": (impact, SUMMARY_MAX, "The impact"),
        "root_cause": (root_cause, NOTE_MAX, "The root cause"),
        "went_well": (went_well, NOTE_MAX, "What went well"),
        "went_poorly": (went_poorly, NOTE_MAX, "What went poorly"),
        "lessons": (lessons, NOTE_MAX, "Lessons learned"),
        "verification_plan": (verification_plan, NOTE_MAX, "The verification plan"),
    }
    values = {
        name: text_within((value or "").strip(), limit=limit, field=name, label=label)
        for name, (value, limit, label) in texts.items()
    }
    clean_whys = _clean_whys(whys or [])
    clean_factors = _clean_factors(factors or [])
    items = [_clean_item(n, item) for n, item in enumerate(action_items or [], start=1)]
    if len(items) > MAX_ACTION_ITEMS:
        raise ValidationFailed(
            f"At most {MAX_ACTION_ITEMS} action items.", code="too_many", field="action_items"
        )
    picks = list(dict.fromkeys(int(i) for i in (timeline_entry_ids or [])))
    if len(picks) > MAX_TIMELINE_PICKS:
        raise ValidationFailed("Too many timeline entries picked.", field="timeline_entry_ids")
    with transaction.atomic(durable=True):
        review = _lock_review(review_id)
        if review.is_locked:
            raise Conflict(
                "This review is approved and locked; start a correction (a new revision) "
                "to change it.",
                code="review_locked",
            )
        _require_state(review, ReviewState.DRAFT, doing="edited")
        _require_current(review)
        known = set(review.incident.timeline.filter(pk__in=picks).values_list("pk", flat=True))
        before = live_review_content(review)
        for name, value in values.items():
            setattr(review, name, value)
        review.whys = clean_whys
        review.factors = clean_factors
        review.timeline_entry_ids = [p for p in picks if p in known]
        if review.author_id is None and actor is not None:
            review.author = actor
        review.updated_at = timezone.now()
        review.save()
        _sync_items(review, items, actor)
        after = live_review_content(review)
        if after != before:
            audit_record(
                actor=actor,
                event_type="incident_review.updated",
                obj=review,
                before={k: v for k, v in before.items() if after.get(k) != v},
                after={k: v for k, v in after.items() if before.get(k) != v},
            )
    return review


def _sync_items(review: PostIncidentReview, items: list[ActionItemInput], actor: Any) -> None:
    existing = {i.pk: i for i in review.action_items.select_for_update()}
    kept: set[int] = set()
    now = timezone.now()
    for position, data in enumerate(items):
        fields = {
            "title": data.title,
            "owner_id": data.owner_id,
            "due_on": data.due_on,
            "kind": data.kind,
            "priority": data.priority,
            "link": data.link,
            "position": position,
        }
        if data.id is not None:
            item = existing.get(data.id)
            if item is None:
                raise ValidationFailed(
                    "An action item of another review cannot be edited here.",
                    field="action_items",
                )
            kept.add(item.pk)
            changed = [k for k, v in fields.items() if getattr(item, k) != v]
            if changed:
                for k in changed:
                    setattr(item, k, fields[k])
                item.save(update_fields=changed)
            continue
        item = ActionItem.objects.create(
            incident=review.incident,
            review=review,
            created_at=now,
            created_by=user_or_none(actor),
            **fields,
        )
        audit_record(
            actor=actor,
            event_type="action_item.created",
            obj=item,
            after={"title": item.title, "owner": item.owner_id, "due_on": item.due_on},
        )
    for pk, item in existing.items():
        if pk not in kept:
            if item.status != ActionItem.Status.OPEN:
                raise Conflict(
                    f"'{item.title}' is {item.get_status_display().lower()}; it stays.",
                    code="item_closed",
                )
            audit_record(
                actor=actor,
                event_type="action_item.removed",
                obj=item,
                before={"title": item.title, "owner": item.owner_id},
            )
            item.delete()


def _transition_record(
    review: PostIncidentReview, *, actor: Any, event: str, body: str, before: str, **extra: Any
) -> None:
    timeline_write(
        incident=review.incident,
        actor=actor,
        kind=TimelineEntry.Kind.REVIEW,
        body=body,
        metadata={"review": review.pk, "event": event, "revision": review.revision},
    )
    audit_record(
        actor=actor,
        event_type=f"incident_review.{event}",
        obj=review,
        before={"state": before},
        after={"state": review.state, **extra},
    )


def submit_problems(review: PostIncidentReview) -> list[str]:
    """What the review still lacks before it can go for sign-off (empty: nothing)."""
    problems = []
    if not review.summary.strip():
        problems.append("a summary")
    if not review.whys:
        problems.append("at least one why (question and answer)")
    if not review.root_cause.strip():
        problems.append("the root cause the whys end in")
    return problems


@service_entry_point
def review_submit(*, review_id: int, actor: Any) -> PostIncidentReview:
    """draft → in_review. ValidationFailed naming what is missing (a summary, a why,
    the root cause)."""
    require_permission(actor, "incidents.submit_postincidentreview")
    with transaction.atomic(durable=True):
        review = _lock_review(review_id)
        _require_state(review, ReviewState.DRAFT, doing="submitted")
        _require_current(review)
        problems = submit_problems(review)
        if problems:
            raise ValidationFailed(
                "Before it can be signed the review needs " + ", ".join(problems) + ".",
                code="incomplete",
            )
        review.submit()
        review.submitted_at = timezone.now()
        review.changes_requested = ""
        review.save(update_fields=["state", "submitted_at", "changes_requested"])
        _transition_record(
            review,
            actor=actor,
            event="submitted",
            before=ReviewState.DRAFT,
            body=f"Post-incident review (revision {review.revision}) submitted for sign-off.",
        )
    return review


@service_entry_point
def review_request_changes(*, review_id: int, actor: Any, reason: str) -> PostIncidentReview:
    """in_review → draft with the reviewer's reason. Sign-offs already given stop
    holding as soon as the content changes (they are bound to its hash)."""
    require_permission(actor, "incidents.request_changes_postincidentreview")
    reason = reason_given(reason, missing="Say what should change.")
    with transaction.atomic(durable=True):
        review = _lock_review(review_id)
        _require_state(review, ReviewState.IN_REVIEW, doing="sent back")
        review.request_changes()
        review.changes_requested = reason
        review.save(update_fields=["state", "changes_requested"])
        _transition_record(
            review,
            actor=actor,
            event="changes_requested",
            before=ReviewState.IN_REVIEW,
            body=f"Changes requested on the post-incident review: {reason}",
            reason=reason,
        )
    return review


@service_entry_point
def review_publish(*, review_id: int, actor: Any) -> PostIncidentReview:
    """approved → published (shared beyond the response team)."""
    require_permission(actor, "incidents.publish_postincidentreview")
    with transaction.atomic(durable=True):
        review = _lock_review(review_id)
        _require_state(review, ReviewState.APPROVED, doing="published")
        review.publish()
        review.published_at = timezone.now()
        review.save(update_fields=["state", "published_at"])
        _transition_record(
            review,
            actor=actor,
            event="published",
            before=ReviewState.APPROVED,
            body=f"Post-incident review (revision {review.revision}) published.",
        )
    return review


_COPIED = (
    "summary",
    "impact",
    "timeline_entry_ids",
    "whys",
    "root_cause",
    "factors",
    "went_well",
    "went_poorly",
    "lessons",
    "verification_plan",
)


@service_entry_point
def review_revise(*, review_id: int, actor: Any) -> PostIncidentReview:
    """Start a correction of an approved (or published) revision: a new draft revision
    with the same content, authored by `actor`, that needs its own sign-offs. The
    earlier revision keeps its frozen content and sign-offs; the action items move to
    the new revision (they are the incident's, and the correction may change them)."""
    require_permission(actor, "incidents.revise_postincidentreview")
    with transaction.atomic(durable=True):
        review = _lock_review(review_id)
        _require_state(
            review,
            *[s.value for s in (ReviewState.APPROVED, ReviewState.PUBLISHED)],
            doing="corrected",
        )
        _require_current(review)
        now = timezone.now()
        new = PostIncidentReview(
            incident=review.incident,
            revision=review.revision + 1,
            supersedes=review,
            required=review.required,
            author=user_or_none(actor),
            created_at=now,
            updated_at=now,
            due_at=None,
            **{name: getattr(review, name) for name in _COPIED},
        )
        new.save(force_insert=True)
        review.action_items.update(review=new)
        _transition_record(
            new,
            actor=actor,
            event="revised",
            before="",
            body=f"Correction started: revision {new.revision} of the post-incident review "
            f"(revision {review.revision} stays approved and readable).",
            supersedes=review.pk,
        )
    return new


@service_entry_point
def action_item_add(
    *,
    incident_id: int,
    actor: Any,
    title: str,
    owner_id: int,
    due_on: date,
    kind: str = ActionItem.Kind.CORRECTIVE,
    priority: str = ActionItem.Priority.MEDIUM,
    link: str = "",
) -> ActionItem:
    """An action item made from the incident page (not part of any review's content)."""
    require_permission(actor, "incidents.add_actionitem")
    data = _clean_item(1, ActionItemInput(title, owner_id, due_on, kind, priority, link))
    with transaction.atomic(durable=True):
        incident = lock_incident(incident_id, None)
        item = ActionItem.objects.create(
            incident=incident,
            title=data.title,
            owner_id=data.owner_id,
            due_on=data.due_on,
            kind=data.kind,
            priority=data.priority,
            link=data.link,
            created_at=timezone.now(),
            created_by=user_or_none(actor),
        )
        timeline_write(
            incident=incident,
            actor=actor,
            kind=TimelineEntry.Kind.REVIEW,
            body=f"Action item added: {item.title} (due {item.due_on:%Y-%m-%d}).",
            metadata={"action_item": item.pk, "event": "action_item_created"},
        )
        audit_record(
            actor=actor,
            event_type="action_item.created",
            obj=item,
            after={"title": item.title, "owner": item.owner_id, "due_on": item.due_on},
        )
    return item


@service_entry_point
def action_item_set_status(
    *, item_id: int, actor: Any, status: str, reason: str = ""
) -> ActionItem:
    """open → done, or open → won't do (with a reason); done / won't do → open again.
    The owner or anyone allowed to set action item status."""
    if actor is not None and not actor.has_perm("incidents.set_status_actionitem"):
        item = ActionItem.objects.filter(pk=item_id).first()
        if item is None or item.owner_id != actor.pk:
            require_permission(actor, "incidents.set_status_actionitem")
    if status not in ActionItem.Status.values:
        raise ValidationFailed("Unknown status.", code="invalid", field="status")
    if status == ActionItem.Status.WONT_DO:
        reason = reason_given(reason, missing="Say why this action will not be done.")
    else:
        reason = text_within((reason or "").strip(), limit=500, field="reason", label="The reason")
    with transaction.atomic(durable=True):
        item = ActionItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise NotFound("No such action item.", field="item")
        if item.status == status:
            return item
        before = item.status
        item.status = status
        item.status_reason = reason[:500]
        item.closed_at = None if status == ActionItem.Status.OPEN else timezone.now()
        item.save(update_fields=["status", "status_reason", "closed_at"])
        incident = Incident.objects.get(pk=item.incident_id)
        timeline_write(
            incident=incident,
            actor=actor,
            kind=TimelineEntry.Kind.REVIEW,
            body=f"Action item '{item.title}': {item.get_status_display().lower()}"
            + (f". {reason}" if reason else "."),
            metadata={"action_item": item.pk, "event": "action_item_status", "to": status},
        )
        audit_record(
            actor=actor,
            event_type="action_item.status_changed",
            obj=item,
            before={"status": before},
            after={"status": status, "reason": reason},
        )
    return item


@dataclass(frozen=True)
class OverdueRun:
    reviews: int
    action_items: int
    due_soon_notified: int = 0  # action-item "due within 24 h" notifications sent


@service_entry_point
def reviews_flag_overdue(*, now: datetime | None = None) -> OverdueRun:
    """The deadline job: flag reviews past their due time and open action items past
    their due date, once each: record it on the incident timeline, audit it and tell
    the people concerned (`notify.notify_overdue`). Rows another run holds are
    skipped (SKIP LOCKED), rows already flagged are not flagged again: safe to run
    twice, or concurrently."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        reviews = list(
            PostIncidentReview.objects.overdue(now)
            .filter(overdue_flagged_at__isnull=True)
            .select_related("incident", "author")
            .select_for_update(skip_locked=True, of=("self",))
        )
        for review in reviews:
            review.overdue_flagged_at = now
            review.save(update_fields=["overdue_flagged_at"])
            audit_record(
                actor=None,
                event_type="incident_review.overdue",
                obj=review,
                after={"due_at": review.due_at, "flagged_at": now},
            )
            commander = current_commander(review.incident)
            notify_overdue(
                kind=REVIEW_OVERDUE,
                incident=review.incident,
                recipients=[u for u in {review.author, commander} if u is not None],
                title=f"Post-incident review of {review.incident.reference} is overdue",
                body=f"It was due {review.due_at:%Y-%m-%d %H:%M} UTC and is "
                f"{review.get_state_display().lower()}.",
                url=review.get_absolute_url(),
                dedupe_key=f"review-overdue:{review.pk}",
                metadata={"review": review.pk, "event": "overdue"},
            )
        items = list(
            overdue_action_items(now.date())
            .filter(overdue_flagged_at__isnull=True)
            .select_related("incident", "owner")
            .select_for_update(skip_locked=True, of=("self",))
        )
        for item in items:
            item.overdue_flagged_at = now
            item.save(update_fields=["overdue_flagged_at"])
            audit_record(
                actor=None,
                event_type="action_item.overdue",
                obj=item,
                after={"due_on": item.due_on, "flagged_at": now},
            )
            notify_overdue(
                kind=ACTION_ITEM_OVERDUE,
                incident=item.incident,
                recipients=[item.owner],
                title=f"Action item overdue: {item.title}",
                body=f"Due {item.due_on:%Y-%m-%d}, owned by {item.owner.get_username()}.",
                url=reverse("incidents:detail", args=[item.incident_id]) + "#review",
                dedupe_key=f"action-item-overdue:{item.pk}",
                metadata={"action_item": item.pk, "event": "action_item_overdue"},
            )
        due_soon = 0
        horizon = (now + timedelta(hours=ACTION_ITEM_DUE_WITHIN_HOURS)).date()
        for item in (
            ActionItem.objects.filter(
                status=ActionItem.Status.OPEN, due_on__gte=now.date(), due_on__lte=horizon
            )
            .select_related("incident", "owner")
            .order_by("pk")
        ):
            # Once per item and due date: notify's dedupe key (a unique constraint).
            due_soon += notify_action_item_due(item)
    if reviews or items or due_soon:
        logger.info(
            "reviews.overdue",
            extra={"reviews": len(reviews), "items": len(items), "due_soon": due_soon},
        )
    return OverdueRun(len(reviews), len(items), due_soon)
