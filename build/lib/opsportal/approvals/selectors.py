"""Reads for four-eyes approvals."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from opsportal.approvals.models import Approval, ApprovalRequest
from opsportal.approvals.registry import PreconditionResult, get_action
from opsportal.core.errors import DomainError, NotFound


def _eligible_q(group_names: list[str]) -> Q:
    # JSON-text containment of the quoted role name: works on PostgreSQL and SQLite
    # (SQLite has no JSON `contains`); role names are distinct identifiers, so the
    # quotes make the match exact.
    q = Q(pk__in=[])
    for name in group_names:
        q |= Q(eligible_groups__icontains=f'"{name}"')
    return q


def approval_requests_list() -> QuerySet[ApprovalRequest]:
    """All requests with what list pages show, in a fixed number of queries."""
    return (
        ApprovalRequest.objects.select_related("requester", "target_type")
        .annotate(
            approvals_count=Count(
                "decisions",
                filter=Q(decisions__decision=Approval.Decision.APPROVE)
                & Q(decisions__payload_revision=F("payload_revision"))
                & ~Q(decisions__approver=F("requester")),
            )
        )
        .order_by("-created_at", "-id")
    )


def approvals_waiting_for(user: Any) -> QuerySet[ApprovalRequest]:
    """Pending, unexpired requests `user` may decide now: not their own, their
    groups are in the request's eligible groups, and they have not yet decided on
    its current payload. Soonest expiry first."""
    if not getattr(user, "is_authenticated", False):
        return ApprovalRequest.objects.none()
    groups = list(user.groups.values_list("name", flat=True))
    if not groups:
        return ApprovalRequest.objects.none()
    decided = Approval.objects.filter(
        request=OuterRef("pk"), approver=user, payload_revision=OuterRef("payload_revision")
    )
    return (
        approval_requests_list()
        .filter(status=ApprovalRequest.Status.PENDING, expires_at__gt=timezone.now())
        .filter(_eligible_q(groups))
        .exclude(requester=user)
        .exclude(Exists(decided))
        .order_by("expires_at", "id")
    )


def approvals_waiting_count(user: Any) -> int | None:
    """The header count: None for a user who can decide nothing (no permission),
    else how many requests wait for them."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not user.has_perm("approvals.decide_approvalrequest"):
        return None
    return approvals_waiting_for(user).count()


def approval_request_for(user: Any, pk: Any) -> ApprovalRequest:
    """The request `pk` with its decisions, if `user` may view requests; NotFound
    otherwise (never reveals whether it exists)."""
    if not user.has_perm("approvals.view_approvalrequest"):
        raise NotFound("No such approval request.")
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such approval request.") from None
    request = (
        ApprovalRequest.objects.select_related("requester", "target_type")
        .prefetch_related(
            Prefetch(
                "decisions",
                queryset=Approval.objects.select_related("approver").order_by("at", "id"),
            )
        )
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise NotFound("No such approval request.")
    return request


def approval_preconditions(request: ApprovalRequest) -> list[PreconditionResult]:
    """Each precondition of the request's action evaluated now, on the current
    target and payload (for the detail page; no side effects)."""
    try:
        spec = get_action(request.action)
    except KeyError:
        return [
            PreconditionResult(
                "action_registered", "The action is known to the portal", False, request.action
            )
        ]
    target = request.target
    if target is None:
        return [PreconditionResult("target_exists", "The target still exists", False)]
    try:
        return list(spec.preconditions(target, request.payload))
    except DomainError as exc:
        return [
            PreconditionResult(
                "preconditions", "Preconditions could be evaluated", False, exc.message
            )
        ]


def approval_precondition_table(request: ApprovalRequest) -> dict[str, Any]:
    """The request page's preconditions: what was evaluated when the request was
    made (or last amended), when the final approval executed it, and, only while it
    is pending, now. An executed request is never re-evaluated: what holds today
    says nothing about what held when it ran.

    Returns {"columns": [str, ...], "rows": [{"label": str, "cells": [cell | None]}]}
    where a cell is {"passed": bool, "detail": str}; None marks a check not evaluated
    at that moment. Rows follow the order the checks were first evaluated in.
    """
    snapshots: list[tuple[str, list[dict[str, Any]]]] = [
        ("When requested", list(request.preconditions_at_request or []))
    ]
    if request.preconditions_at_execution is not None:
        snapshots.append(("When executed", list(request.preconditions_at_execution)))
    if request.status == ApprovalRequest.Status.PENDING:
        now = [
            {"code": r.code, "label": r.label, "passed": r.passed, "detail": r.detail}
            for r in approval_preconditions(request)
        ]
        snapshots.append(("Now", now))
    labels: dict[str, str] = {}
    for _, checks in snapshots:
        for check in checks:
            labels.setdefault(check["code"], check["label"])
    rows = [
        {
            "label": label,
            "cells": [
                next(
                    (
                        {"passed": c["passed"], "detail": c.get("detail", "")}
                        for c in checks
                        if c["code"] == code
                    ),
                    None,
                )
                for _, checks in snapshots
            ],
        }
        for code, label in labels.items()
    ]
    return {"columns": [title for title, _ in snapshots], "rows": rows}


def approval_counts(request: ApprovalRequest) -> dict[str, int]:
    """Approvals that count now (current revision) and how many are still needed.
    Uses the prefetched decisions when present."""
    current = [
        d
        for d in request.decisions.all()
        if d.decision == Approval.Decision.APPROVE
        and d.payload_revision == request.payload_revision
        and d.approver_id != request.requester_id
    ]
    return {
        "approved": len(current),
        "needed": max(request.approvals_required - len(current), 0),
    }
