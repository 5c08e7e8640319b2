"""The demo a newcomer gets from `make run`: load_procedures + seed_demo."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from opsportal.accounts.models import User
from opsportal.controls.models import Environment
from opsportal.controls.preconditions import evaluate_live_preconditions, pre_live_checklist_items


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


def test_seed_demo_restores_a_changed_demo_password(demo, client):
    user = User.objects.get(username="risk")
    user.set_password("something-else-entirely")
    user.save(update_fields=["password"])

    call_command("seed_demo", "--force", verbosity=0)

    assert client.login(username="risk", password=settings.OPSPORTAL_DEMO_PASSWORD)
