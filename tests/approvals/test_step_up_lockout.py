"""The step-up password on approve and reject is throttled like sign-in (issue 14
item 4; opsportal/accounts/step_up.py): locked after repeated wrong passwords, the
right one included, and the lockout audited."""

from __future__ import annotations

import pytest
from django.conf import settings

from opsportal.approvals.services import approval_grant, approval_reject
from opsportal.audit.models import AuditEvent
from opsportal.core.errors import NotPermitted

pytestmark = pytest.mark.django_db


def grant(request, user, password):
    return approval_grant(
        request_id=request.pk, actor=user, password=password, payload_sha256=request.payload_sha256
    )


def test_step_up_on_approve_locks_after_repeated_wrong_passwords(make_request, users, password):
    request = make_request()
    for _ in range(settings.OPSPORTAL_LOGIN_FAILURE_LIMIT):
        with pytest.raises(NotPermitted):
            grant(request, users["operator2"], "wrong-guess")

    with pytest.raises(NotPermitted) as exc:
        grant(request, users["operator2"], password)

    assert (exc.value.code, exc.value.field) == ("step_up_locked", "password")
    assert exc.value.message == (
        "Too many attempts with a wrong password: try again in 15 minutes."
    )


def test_step_up_lockout_is_audited_once(make_request, users):
    request = make_request()
    for _ in range(settings.OPSPORTAL_LOGIN_FAILURE_LIMIT + 2):
        with pytest.raises(NotPermitted):
            grant(request, users["operator2"], "wrong-guess")

    events = AuditEvent.objects.filter(event_type="auth.step_up_locked_out")

    assert list(events.values_list("actor__username", "metadata__purpose")) == [
        ("operator2", "approval")
    ]


def test_step_up_failures_on_reject_count_towards_the_same_lockout(make_request, users, password):
    request = make_request()
    for _ in range(settings.OPSPORTAL_LOGIN_FAILURE_LIMIT):
        with pytest.raises(NotPermitted):
            approval_reject(
                request_id=request.pk, actor=users["operator2"], reason="no", password="wrong"
            )

    with pytest.raises(NotPermitted) as exc:
        grant(request, users["operator2"], password)

    assert exc.value.code == "step_up_locked"
