"""Every refused attempt on the four-eyes engine leaves exactly one `approval.refused`
audit event, written after the refused transaction rolled back (issue #8 part 3;
DESIGN "Approval request": refused attempts are audited too)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from opsportal.approvals.models import ApprovalPolicy, ApprovalRequest
from opsportal.approvals.services import (
    approval_cancel,
    approval_grant,
    approval_reject,
    approval_request_amend,
    approval_request_create,
)
from opsportal.audit.models import AuditEvent
from opsportal.core.errors import DomainError
from tests.factories import PASSWORD

NO_SUCH_REQUEST = 987_654


@dataclass(frozen=True)
class Ctx:
    """What a case needs: the demo users, the target and `make_request()`."""

    users: dict
    target: Any
    make_request: Callable[..., ApprovalRequest]


def refused() -> list[tuple[str, str]]:
    return [
        (e.metadata["operation"], e.metadata["code"])
        for e in AuditEvent.objects.filter(event_type="approval.refused")
    ]


def create(ctx: Ctx, **overrides: Any) -> ApprovalRequest:
    arguments = {
        "action": "test_action",
        "target": ctx.target,
        "reason": "test",
        "payload": {"size": 1},
        "actor": ctx.users["operator1"],
        **overrides,
    }
    return approval_request_create(**arguments)


def grant(ctx: Ctx, request: ApprovalRequest, user: str = "operator2", **overrides: Any) -> Any:
    arguments = {
        "request_id": request.pk,
        "actor": ctx.users[user],
        "password": PASSWORD,
        "payload_sha256": request.payload_sha256,
        **overrides,
    }
    return approval_grant(**arguments)


def reject(ctx: Ctx, request: ApprovalRequest, user: str = "operator2", **overrides: Any) -> Any:
    arguments = {
        "request_id": request.pk,
        "actor": ctx.users[user],
        "reason": "no",
        "password": PASSWORD,
        **overrides,
    }
    return approval_reject(**arguments)


def expire(request: ApprovalRequest) -> ApprovalRequest:
    ApprovalRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    return request


def two_approvers(ctx: Ctx) -> ApprovalRequest:
    """A pending request of a two-approver policy that operator2 has approved."""
    ApprovalPolicy.objects.filter(action="test_action").update(approvals_required=2)
    request = ctx.make_request()
    grant(ctx, request)
    return request


def rejected(ctx: Ctx) -> ApprovalRequest:
    request = ctx.make_request()
    reject(ctx, request)
    return request


def cancelled(ctx: Ctx) -> ApprovalRequest:
    request = ctx.make_request()
    approval_cancel(request_id=request.pk, actor=ctx.users["operator1"], reason="typo")
    return request


def executed(ctx: Ctx) -> ApprovalRequest:
    request = ctx.make_request()
    grant(ctx, request)
    return request


def amended(ctx: Ctx) -> ApprovalRequest:
    request = ctx.make_request(payload={"size": 1})
    approval_request_amend(request_id=request.pk, actor=ctx.users["operator1"], payload={"n": 2})
    return request


def no_policy(ctx: Ctx) -> None:
    ApprovalPolicy.objects.filter(action="test_action").delete()


def pending(ctx: Ctx) -> ApprovalRequest:
    return ctx.make_request()


def nothing(ctx: Ctx) -> None:
    return None


@dataclass(frozen=True)
class Case:
    arrange: Callable[[Ctx], Any]
    attempt: Callable[[Ctx, Any], Any]
    refusal: tuple[str, str]  # (operation, code) of the one approval.refused event


CASES = {
    # --- create
    "create without a policy": Case(no_policy, lambda c, _: create(c), ("create", "no_policy")),
    "create with failing preconditions": Case(
        nothing,
        lambda c, _: create(c, payload={"block": True}),
        ("create", "preconditions_failed"),
    ),
    "create a second open request": Case(
        pending, lambda c, _: create(c), ("create", "already_pending")
    ),
    "create without a reason": Case(
        nothing, lambda c, _: create(c, reason=" "), ("create", "required")
    ),
    "create for an unknown action": Case(
        nothing, lambda c, _: create(c, action="no_such_action"), ("create", "unknown_action")
    ),
    "create on a target of the wrong model": Case(
        nothing,
        lambda c, _: create(c, target=ApprovalPolicy.objects.get(action="test_action")),
        ("create", "wrong_target"),
    ),
    "create with a payload that is not an object": Case(
        nothing, lambda c, _: create(c, payload=[1, 2]), ("create", "invalid")
    ),
    "create signed out": Case(
        nothing, lambda c, _: create(c, actor=None), ("create", "not_authenticated")
    ),
    # --- amend
    "amend by someone else": Case(
        pending,
        lambda c, r: approval_request_amend(
            request_id=r.pk, actor=c.users["operator2"], payload={"size": 2}
        ),
        ("amend", "not_requester"),
    ),
    "amend an expired request": Case(
        lambda c: expire(pending(c)),
        lambda c, r: approval_request_amend(
            request_id=r.pk, actor=c.users["operator1"], payload={"size": 2}
        ),
        ("amend", "expired"),
    ),
    "amend a cancelled request": Case(
        cancelled,
        lambda c, r: approval_request_amend(
            request_id=r.pk, actor=c.users["operator1"], payload={"size": 2}
        ),
        ("amend", "cancelled"),
    ),
    "amend to a payload failing preconditions": Case(
        pending,
        lambda c, r: approval_request_amend(
            request_id=r.pk, actor=c.users["operator1"], payload={"block": True}
        ),
        ("amend", "preconditions_failed"),
    ),
    # --- grant
    "grant own request (self-approval)": Case(
        pending, lambda c, r: grant(c, r, "operator1"), ("grant", "self_approval")
    ),
    "grant by someone not eligible": Case(
        pending, lambda c, r: grant(c, r, "auditor"), ("grant", "not_eligible")
    ),
    "grant with a wrong password": Case(
        pending, lambda c, r: grant(c, r, password="wrong"), ("grant", "password_incorrect")
    ),
    "grant an expired request": Case(
        lambda c: expire(pending(c)), lambda c, r: grant(c, r), ("grant", "expired")
    ),
    "grant after the payload changed": Case(
        amended, lambda c, r: grant(c, r), ("grant", "payload_changed")
    ),
    "grant twice": Case(two_approvers, lambda c, r: grant(c, r), ("grant", "already_decided")),
    "grant a cancelled request": Case(cancelled, lambda c, r: grant(c, r), ("grant", "cancelled")),
    "grant a rejected request": Case(
        rejected, lambda c, r: grant(c, r, "commander"), ("grant", "rejected")
    ),
    "grant an executed request": Case(
        executed, lambda c, r: grant(c, r, "commander"), ("grant", "already_executed")
    ),
    "grant a request that does not exist": Case(
        nothing,
        lambda c, _: approval_grant(
            request_id=NO_SUCH_REQUEST,
            actor=c.users["operator2"],
            password=PASSWORD,
            payload_sha256="0" * 64,
        ),
        ("grant", "not_found"),
    ),
    # --- reject
    "reject own request (self-approval)": Case(
        pending, lambda c, r: reject(c, r, "operator1"), ("reject", "self_approval")
    ),
    "reject by someone not eligible": Case(
        pending, lambda c, r: reject(c, r, "auditor"), ("reject", "not_eligible")
    ),
    "reject with a wrong password": Case(
        pending, lambda c, r: reject(c, r, password="wrong"), ("reject", "password_incorrect")
    ),
    "reject without a reason": Case(
        pending, lambda c, r: reject(c, r, reason=""), ("reject", "required")
    ),
    "reject an expired request": Case(
        lambda c: expire(pending(c)), lambda c, r: reject(c, r), ("reject", "expired")
    ),
    "reject after approving": Case(
        two_approvers, lambda c, r: reject(c, r), ("reject", "already_decided")
    ),
    # --- cancel
    "cancel by someone else": Case(
        pending,
        lambda c, r: approval_cancel(request_id=r.pk, actor=c.users["operator2"], reason="x"),
        ("cancel", "not_requester"),
    ),
    "cancel without a reason": Case(
        pending,
        lambda c, r: approval_cancel(request_id=r.pk, actor=c.users["operator1"], reason=""),
        ("cancel", "required"),
    ),
    "cancel a rejected request": Case(
        rejected,
        lambda c, r: approval_cancel(request_id=r.pk, actor=c.users["operator1"], reason="x"),
        ("cancel", "rejected"),
    ),
    "cancel a request that does not exist": Case(
        nothing,
        lambda c, _: approval_cancel(
            request_id=NO_SUCH_REQUEST, actor=c.users["operator1"], reason="x"
        ),
        ("cancel", "not_found"),
    ),
}


@pytest.fixture
def ctx(users, target, policy, make_request) -> Ctx:
    return Ctx(users=users, target=target, make_request=make_request)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_refused_attempt_leaves_exactly_one_approval_refused_event(ctx, case):
    arranged = case.arrange(ctx)

    with pytest.raises(DomainError):
        case.attempt(ctx, arranged)

    assert refused() == [case.refusal]


def test_refusal_event_names_the_actor_and_the_request(ctx):
    request = ctx.make_request()

    with pytest.raises(DomainError):
        grant(ctx, request, "operator1")

    event = AuditEvent.objects.get(event_type="approval.refused")
    assert (event.actor, event.object_type, event.object_id) == (
        ctx.users["operator1"],
        "approvals.approvalrequest",
        str(request.pk),
    )


def test_refused_create_leaves_no_request_but_its_refusal(ctx):
    with pytest.raises(DomainError):
        create(ctx, payload={"block": True})

    assert (ApprovalRequest.objects.count(), len(refused())) == (0, 1)


@pytest.mark.django_db(transaction=True)
def test_approval_grant_inside_a_callers_transaction_raises(users, target, policy, make_request):
    request = make_request()

    with pytest.raises(RuntimeError, match="owns its transaction"), transaction.atomic():
        approval_grant(
            request_id=request.pk,
            actor=users["operator2"],
            password=PASSWORD,
            payload_sha256=request.payload_sha256,
        )
