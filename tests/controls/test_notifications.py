"""Kill switch triggered/recovered and approval requested/decided notify the right
people (the notifications app's own tests: tests/notifications)."""

from __future__ import annotations

import pytest

from opsportal.approvals.services import approval_grant, approval_reject
from opsportal.controls import services as controls
from opsportal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def recipients(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_kill_switch_trigger_and_recovery_are_notified(users, env, library, kill, fast, password):
    kill(env)
    assert "operator1" in recipients("kill_switch.triggered")
    request = controls.kill_switch_recover(environment=env, actor=users["operator1"], reason="ok")
    assert recipients("approval.requested") == {"risk"}
    approval_grant(
        request_id=request.pk,
        actor=users["risk"],
        password=password,
        payload_sha256=request.payload_sha256,
    )
    assert recipients("kill_switch.recovered") == {"operator1", "operator2", "commander", "risk"}
    decided = Notification.objects.get(kind="approval.decided")
    assert decided.recipient == users["operator1"]
    assert "approved and executed" in decided.title


def test_rejection_is_told_to_the_requester(users, env, library, kill, fast, password):
    kill(env)
    request = controls.kill_switch_recover(environment=env, actor=users["operator1"], reason="ok")
    approval_reject(
        request_id=request.pk, actor=users["risk"], reason="limits not fixed", password=password
    )
    decided = Notification.objects.get(kind="approval.decided")
    assert decided.recipient == users["operator1"]
    assert "rejected" in decided.title and "limits not fixed" in decided.body
