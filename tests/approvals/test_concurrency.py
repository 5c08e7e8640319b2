"""Concurrent final approvals against the real PostgreSQL: real threads, each with
its own database connection."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from opsportal.approvals.models import Approval, ApprovalRequest
from opsportal.approvals.services import approval_grant, approval_request_create
from opsportal.audit.models import AuditEvent
from opsportal.core.errors import DomainError
from tests.approvals.factories import ApprovalPolicyFactory
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def approve_all_at_once(request: ApprovalRequest, approvers: list, password: str) -> list:
    """Every approver grants at the same moment from its own thread and connection.
    Returns each thread's outcome: the resulting status or the refusal code."""
    barrier = threading.Barrier(len(approvers))
    outcomes: list = [None] * len(approvers)

    def run(index: int, user) -> None:
        try:
            barrier.wait(timeout=10)
            result = approval_grant(
                request_id=request.pk,
                actor=user,
                password=password,
                payload_sha256=request.payload_sha256,
            )
            outcomes[index] = result.status
        except DomainError as exc:
            outcomes[index] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, u)) for i, u in enumerate(approvers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def make(approvals_required: int, password: str):
    ApprovalPolicyFactory(approvals_required=approvals_required, eligible_groups=["operator"])
    requester = UserFactory(username="requester", roles=["operator"])
    target = UserFactory(username="target-user")
    approvers = [UserFactory(username=f"approver{i}", roles=["operator"]) for i in range(10)]
    request = approval_request_create(
        action="test_action", target=target, reason="go", payload={"size": 1}, actor=requester
    )
    return request, approvers


def test_ten_concurrent_final_approvals_execute_exactly_once(password):
    request, approvers = make(1, password)

    outcomes = approve_all_at_once(request, approvers, password)

    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.EXECUTED
    assert AuditEvent.objects.filter(event_type="approvals_test.executed").count() == 1
    assert AuditEvent.objects.filter(event_type="approval.executed").count() == 1
    assert outcomes.count(ApprovalRequest.Status.EXECUTED) == 1
    assert outcomes.count("already_executed") == 9
    assert Approval.objects.filter(request=request).count() == 1
    assert AuditEvent.objects.filter(event_type="approval.refused").count() == 9


def test_concurrent_approvals_with_threshold_two_execute_once_and_never_miss(password):
    request, approvers = make(2, password)

    outcomes = approve_all_at_once(request, approvers[:2], password)

    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.EXECUTED
    assert sorted(outcomes) == sorted([ApprovalRequest.Status.PENDING, "executed"])
    assert AuditEvent.objects.filter(event_type="approvals_test.executed").count() == 1
    assert Approval.objects.filter(request=request).count() == 2


def test_ten_concurrent_approvals_with_threshold_two_execute_exactly_once(password):
    request, approvers = make(2, password)

    outcomes = approve_all_at_once(request, approvers, password)

    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.EXECUTED
    assert outcomes.count(ApprovalRequest.Status.EXECUTED) == 1
    assert outcomes.count(ApprovalRequest.Status.PENDING) == 1
    assert outcomes.count("already_executed") == 8
    assert AuditEvent.objects.filter(event_type="approvals_test.executed").count() == 1
    assert Approval.objects.filter(request=request).count() == 2


def test_default_policies_are_back_after_the_flush_of_a_transactional_test():
    # Runs after the tests above, whose teardown flushed every table: the
    # post_migrate handler must have put the default policies back, or every later
    # live-server test (controls, e2e) would find no live_transition policy.
    from opsportal.approvals.models import ApprovalPolicy

    assert set(ApprovalPolicy.objects.values_list("action", flat=True)) >= {
        "live_transition",
        "kill_switch_resume",
    }
