"""The demo a newcomer gets from `make run`: load_procedures + seed_demo."""

import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from drills.selectors import kill_switch_drill_precondition
from incidents.models import Incident
from opsportal.accounts.models import User
from opsportal.controls.models import Environment
from opsportal.controls.preconditions import evaluate_live_preconditions, pre_live_checklist_items
from opsportal.controls.selectors import gate_decision


@pytest.fixture
def demo(db):
    call_command("load_procedures", verbosity=0)
    call_command("seed_demo", "--force", verbosity=0)


def test_paper_can_go_live_at_once_in_the_demo(demo):
    paper = Environment.objects.get(slug="paper")
    _, items = pre_live_checklist_items()
    attestations = {item.key: True for item in items}

    results = evaluate_live_preconditions(paper, attestations)

    assert [r.code for r in results if not r.passed] == []


def test_seed_demo_twice_changes_nothing(demo):
    from opsportal.audit.models import AuditEvent

    before = AuditEvent.objects.exclude(event_type__startswith="auth.").count()

    call_command("load_procedures", verbosity=0)
    call_command("seed_demo", "--force", verbosity=0)

    assert AuditEvent.objects.exclude(event_type__startswith="auth.").count() == before


def test_seed_demo_again_keeps_everyone_signed_in(demo, client):
    client.login(username="operator1", password=settings.OPSPORTAL_DEMO_PASSWORD)

    call_command("seed_demo", "--force", verbosity=0)

    assert client.get(reverse("dashboard")).status_code == 200


def test_seed_demo_keeps_a_password_the_user_changed(demo, client):
    """A password changed on the password page is the person's: `make run` re-seeds
    on every start and must not hand it back to the public demo password."""
    client.force_login(User.objects.get(username="risk"))
    client.post(
        reverse("password_change"),
        {
            "old_password": settings.OPSPORTAL_DEMO_PASSWORD,
            "new_password1": "a-new-passphrase-for-risk-42",
            "new_password2": "a-new-passphrase-for-risk-42",
        },
    )
    client.logout()

    call_command("seed_demo", "--force", verbosity=0)

    assert client.login(username="risk", password="a-new-passphrase-for-risk-42")
    assert not client.login(username="risk", password=settings.OPSPORTAL_DEMO_PASSWORD)


VERIFIED = re.compile(r"Kill switch verified</dt>\s*<dd[^>]*>(.*?)</dd>", re.S)


def test_demo_environment_page_shows_the_verification_the_go_live_precondition_uses(demo):
    client = Client()
    client.force_login(User.objects.get(username="operator1"))
    paper = Environment.objects.get(slug="paper")

    shown = VERIFIED.search(client.get("/environments/paper/").content.decode()).group(1)

    assert kill_switch_drill_precondition(paper).passed
    assert "never" not in shown
    assert kill_switch_drill_precondition(paper).detail in shown


def test_demo_incidents_that_say_trading_is_halted_are_on_a_halted_gate(demo):
    halted = Incident.objects.open().filter(trading_halted=True).select_related("environment")

    assert halted.exists()
    assert {i.reference: gate_decision(i.environment.slug).decision for i in halted} == {
        i.reference: "HALT" for i in halted
    }
