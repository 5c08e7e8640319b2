from __future__ import annotations

import dataclasses

import pytest
from django.utils import timezone

from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.registry import get_action, register_action
from opsportal.approvals.tasks import approvals_expire_due_task
from opsportal.audit.models import AuditEvent
from tests.approvals.conftest import TEST_ACTION


def test_register_action_same_spec_twice_is_a_no_op_and_a_clash_is_an_error():
    register_action(TEST_ACTION)

    with pytest.raises(ValueError):
        register_action(dataclasses.replace(TEST_ACTION, label="Other"))
    assert get_action("test_action") is TEST_ACTION


def test_get_action_unknown_is_a_key_error():
    with pytest.raises(KeyError):
        get_action("no_such_action")


@pytest.mark.django_db
def test_approvals_expire_due_task_expires_and_is_safe_to_run_twice(make_request):
    request = make_request()
    ApprovalRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now())

    first = approvals_expire_due_task.delay().get()
    second = approvals_expire_due_task.delay().get()

    request.refresh_from_db()
    assert (first, second, request.status) == (1, 0, ApprovalRequest.Status.EXPIRED)
    event = AuditEvent.objects.get(event_type="approval.expired")
    assert (event.actor, event.source) == (None, "task")
