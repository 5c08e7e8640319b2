"""Admins issue and revoke gate tokens in the portal; the secret is shown once, in the
answer to the issuing POST, and never again (issue 14)."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client
from django.urls import reverse

from opsportal.audit.models import AuditEvent
from opsportal.controls.models import GateToken

pytestmark = pytest.mark.django_db

PAGE = reverse("controls:gate_tokens")


def raw_token(html: str) -> str:
    match = re.search(r"opsg_[A-Za-z0-9_-]{20,}", html)
    assert match, "no token on the page"
    return match.group(0)


def gate(slug: str, raw: str):
    return Client().get(f"/api/v1/environments/{slug}/gate", HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_admin_issues_a_token_and_sees_the_secret_once(env, client_for, users):
    admin = client_for("admin")

    issued = admin.post(PAGE, {"name": "engine-paper-1", "environment": "paper"})
    raw = raw_token(issued.content.decode())
    later = admin.get(PAGE)

    token = GateToken.objects.get()
    assert (issued.status_code, "no-store" in issued["Cache-Control"]) == (200, True)
    assert token.token_sha256 == hashlib.sha256(raw.encode()).hexdigest()
    assert (token.name, token.environment, token.created_by) == (
        "engine-paper-1",
        env,
        users["admin"],
    )
    assert raw not in later.content.decode() and "engine-paper-1" in later.content.decode()
    assert gate("paper", raw).status_code == 200
    event = AuditEvent.objects.get(event_type="gate_token.issued")
    assert (event.actor, event.after) == (
        users["admin"],
        {"name": "engine-paper-1", "environment": "paper"},
    )


def test_a_token_for_all_environments(env, client_for):
    issued = client_for("admin").post(PAGE, {"name": "order-router", "environment": ""})

    assert GateToken.objects.get().environment is None
    assert gate("paper", raw_token(issued.content.decode())).status_code == 200


def test_admin_revokes_a_token_and_its_next_gate_read_is_refused(env, client_for, users):
    admin = client_for("admin")
    raw = raw_token(admin.post(PAGE, {"name": "engine-1", "environment": "paper"}).content.decode())
    token = GateToken.objects.get()

    response = admin.post(reverse("controls:gate_token_revoke", args=[token.pk]), follow=True)

    assert "revoked" in response.content.decode()
    assert GateToken.objects.get().revoked_at is not None
    assert gate("paper", raw).status_code == 401
    assert AuditEvent.objects.get(event_type="gate_token.revoked").actor == users["admin"]


def test_a_token_needs_a_name(env, client_for):
    response = client_for("admin").post(PAGE, {"name": " ", "environment": "paper"})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert GateToken.objects.count() == 0


@pytest.mark.parametrize("username", ["operator1", "risk", "auditor"])
def test_only_admins_issue_tokens(env, client_for, username):
    response = client_for(username).post(PAGE, {"name": "sneaky", "environment": "paper"})

    assert response.status_code == 403
    assert GateToken.objects.count() == 0


def test_operators_cannot_revoke_tokens(env, client_for):
    client_for("admin").post(PAGE, {"name": "engine-1", "environment": "paper"})
    token = GateToken.objects.get()

    response = client_for("operator1").post(reverse("controls:gate_token_revoke", args=[token.pk]))

    assert response.status_code == 403
    assert GateToken.objects.get().revoked_at is None


def test_admins_reach_the_page_from_the_environment_list(env, client_for):
    listing = client_for("admin").get(reverse("controls:list")).content.decode()

    assert f'href="{PAGE}"' in listing
