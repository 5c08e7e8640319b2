"""Brute-force protection on sign-in (issue 14 item 4): a username is locked out from
one address after repeated wrong passwords (django-axes), and each lockout is audited.
The step-up password's lockout: tests/approvals/test_step_up_lockout.py."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from opsportal.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, address="127.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_thirty_wrong_passwords_lock_out_and_then_the_right_one_is_refused(client, users, password):
    for _ in range(30):
        sign_in(client, "operator1", "wrong-guess")

    response = sign_in(client, "operator1", password)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Try again in 15 minutes" in response.content.decode()


def test_login_lockout_is_audited(client, users):
    for _ in range(settings.OPSPORTAL_LOGIN_FAILURE_LIMIT):
        sign_in(client, "operator1", "wrong-guess")

    event = AuditEvent.objects.get(event_type="auth.locked_out")

    assert (event.object_repr, event.metadata) == (
        "operator1",
        {"username": "operator1", "ip": "127.0.0.1"},
    )


def test_login_lockout_is_per_user_and_address(client, users, password):
    for _ in range(settings.OPSPORTAL_LOGIN_FAILURE_LIMIT):
        sign_in(client, "operator1", "wrong-guess", address="198.51.100.7")

    response = sign_in(client, "operator1", password, address="203.0.113.9")

    assert (response.status_code, response.url) == (302, reverse("dashboard"))


def test_fewer_wrong_passwords_than_the_limit_still_let_the_right_one_in(client, users, password):
    for _ in range(settings.OPSPORTAL_LOGIN_FAILURE_LIMIT - 1):
        sign_in(client, "operator1", "wrong-guess")

    response = sign_in(client, "operator1", password)

    assert (response.status_code, response.url) == (302, reverse("dashboard"))


def test_an_admin_sees_and_clears_lockouts_in_the_admin(client, users, password):
    for _ in range(settings.OPSPORTAL_LOGIN_FAILURE_LIMIT):
        sign_in(client, "operator1", "wrong-guess")
    admin = users["admin"]
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    client.force_login(admin)

    listing = client.get("/admin/axes/accessattempt/")

    assert listing.status_code == 200 and "operator1" in listing.content.decode()
    assert admin.has_perm("axes.delete_accessattempt")
