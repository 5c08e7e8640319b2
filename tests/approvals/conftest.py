"""Test actions registered with the engine, and fixtures to make requests.

`test_action` targets a user (any saved model will do). Its preconditions read the
target's live state (`is_active`) and the payload (`{"block": true}` fails); its
execute records an audit event per execution (so tests count executions), renames
the target, and raises a DomainError when the payload says `{"explode": true}`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from opsportal.accounts.models import User
from opsportal.approvals.registry import ActionSpec, PreconditionResult, register_action
from opsportal.approvals.services import approval_request_create
from opsportal.audit.registry import register
from opsportal.audit.services import audit_record
from opsportal.core.errors import Conflict
from tests.approvals.factories import ApprovalPolicyFactory
from tests.factories import UserFactory

register(("approvals_test.executed", "Test action executed"))


def _preconditions(target: Any, payload: dict) -> list[PreconditionResult]:
    return [
        PreconditionResult("target_active", "Target user is active", target.is_active),
        PreconditionResult("not_blocked", "Payload is not blocked", not payload.get("block")),
    ]


def _execute(target: Any, payload: dict, request: Any) -> dict:
    target.first_name = "executed"
    target.save(update_fields=["first_name"])
    if payload.get("explode"):
        raise Conflict("The venue refused the change.", code="venue_refused")
    audit_record(
        actor=None,
        event_type="approvals_test.executed",
        obj=target,
        metadata={"request": request.pk},
    )
    return {"executed_for": target.username}


TEST_ACTION = ActionSpec(
    action="test_action",
    label="Test action",
    target_model="accounts.user",
    request_permission="approvals.add_approvalrequest",
    preconditions=_preconditions,
    execute=_execute,
    target_lookup=lambda key: User.objects.filter(username=key).first(),
)
register_action(TEST_ACTION)


@pytest.fixture
def policy(db: None):
    return ApprovalPolicyFactory()


@pytest.fixture
def target(db: None):
    return UserFactory(username="target-user")


@pytest.fixture
def make_request(users: dict, policy: Any, target: Any) -> Callable[..., Any]:
    """`make_request()` asks for test_action on the target as operator1."""

    def make(*, requester: str = "operator1", payload: dict | None = None, reason: str = "test"):
        return approval_request_create(
            action="test_action",
            target=target,
            reason=reason,
            payload={"size": 1} if payload is None else payload,
            actor=users[requester],
        )

    return make
