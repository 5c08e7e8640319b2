"""Every signed-in user changes their own password from a page linked in the header,
stays signed in, and the change is audited (issue 14)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opsportal.accounts.models import User
from opsportal.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

NEW = "Vq8!a-much-longer-new-phrase"


@pytest.mark.parametrize("username", ["operator1", "risk", "auditor", "admin"])
def test_every_role_has_the_change_password_page_in_the_header(client_for, username):
    client = client_for(username)

    dashboard = client.get(reverse("dashboard")).content.decode()
    page = client.get(reverse("password_change"))

    assert f'href="{reverse("password_change")}"' in dashboard
    assert page.status_code == 200


def test_changing_ones_password_keeps_the_session_and_is_audited(client_for, users, password):
    client = client_for("operator1")

    response = client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": NEW, "new_password2": NEW},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("dashboard"), 302)]
    assert "Your password was changed." in response.content.decode()
    assert client.get(reverse("dashboard")).status_code == 200
    assert User.objects.get(username="operator1").check_password(NEW)
    event = AuditEvent.objects.get(event_type="user.own_password_changed")
    assert (event.actor, event.before, event.after) == (users["operator1"], None, None)


def test_a_wrong_current_password_changes_nothing(client_for, password):
    client = client_for("operator1")

    response = client.post(
        reverse("password_change"),
        {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW},
    )

    assert response.status_code == 200
    assert "Your current password was not accepted." in response.content.decode()
    assert User.objects.get(username="operator1").check_password(password)


def test_a_weak_new_password_is_refused_with_the_reason(client_for, password):
    client = client_for("operator1")

    response = client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": "12345678", "new_password2": "12345678"},
    )

    assert response.status_code == 200
    assert "This password is entirely numeric." in response.content.decode()
    assert User.objects.get(username="operator1").check_password(password)
