"""Every refused sign-off leaves exactly one `signoff.refused` audit event, written
after the refused transaction rolled back (issue #8 part 3; DESIGN "Sign-off")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction

from opsportal.audit.models import AuditEvent
from opsportal.core.errors import DomainError
from opsportal.signoffs.services import signable_sha256, signoff_sign
from tests.drills.factories import completed_run, plan, start
from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def run(version, paper, users):
    """A completed drill run: lead operator1, observer operator2; the procedure needs
    the drill lead's and a risk officer's sign-off."""
    return completed_run(
        version=version, environment=paper, lead=users["operator1"], observer=users["operator2"]
    )


def sign(run, user, role, *, password=PASSWORD, sha=None):
    return signoff_sign(
        target=run,
        actor=user,
        role=role,
        password=password,
        content_sha256=sha or signable_sha256(run),
    )


def refused_codes() -> list[str]:
    return list(
        AuditEvent.objects.filter(event_type="signoff.refused").values_list(
            "metadata__code", flat=True
        )
    )


def risk_officer_signed(run, users) -> None:
    sign(run, users["risk"], "risk_officer")


def lead_is_also_risk_officer(run, users) -> None:
    users["operator1"].groups.add(*users["risk"].groups.all())
    sign(run, users["operator1"], "drill_lead")


def nothing(run, users) -> None:
    return None


@dataclass(frozen=True)
class Case:
    arrange: Callable[[Any, dict], None]
    attempt: Callable[[Any, dict], Any]
    code: str


CASES = {
    "wrong password": Case(
        nothing,
        lambda run, u: sign(run, u["operator1"], "drill_lead", password="wrong"),
        "password_incorrect",
    ),
    "a role the record does not need": Case(
        nothing, lambda run, u: sign(run, u["operator2"], "observer"), "role_not_required"
    ),
    "content changed since it was shown": Case(
        nothing,
        lambda run, u: sign(run, u["operator1"], "drill_lead", sha="0" * 64),
        "stale_content",
    ),
    "drill lead who is not the run's lead": Case(
        nothing, lambda run, u: sign(run, u["operator2"], "drill_lead"), "wrong_role"
    ),
    "risk officer who is not one": Case(
        nothing, lambda run, u: sign(run, u["operator1"], "risk_officer"), "wrong_role"
    ),
    "someone who may not sign drills": Case(
        nothing, lambda run, u: sign(run, u["auditor"], "risk_officer"), "wrong_role"
    ),
    "a role already signed": Case(
        risk_officer_signed,
        lambda run, u: sign(run, UserFactory(roles=["risk_officer"]), "risk_officer"),
        "role_already_signed",
    ),
    "one person filling two roles": Case(
        lead_is_also_risk_officer,
        lambda run, u: sign(run, u["operator1"], "risk_officer"),
        "same_signer",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_refused_signoff_leaves_exactly_one_signoff_refused_event(run, users, case):
    case.arrange(run, users)

    with pytest.raises(DomainError):
        case.attempt(run, users)

    assert refused_codes() == [case.code]


def test_signing_a_run_in_progress_leaves_exactly_one_refusal(version, paper, users):
    running = start(plan(version=version, environment=paper, lead=users["operator1"]))

    with pytest.raises(DomainError):
        sign(running, users["operator1"], "drill_lead")

    assert refused_codes() == ["not_signable"]


def test_signoff_refusal_names_the_signer_and_the_record(run, users):
    with pytest.raises(DomainError):
        sign(run, users["operator1"], "drill_lead", password="wrong")

    event = AuditEvent.objects.get(event_type="signoff.refused")
    assert (event.actor, event.object_type, event.object_id) == (
        users["operator1"],
        "drills.drillrun",
        str(run.pk),
    )


@pytest.mark.django_db(transaction=True)
def test_signoff_sign_inside_a_callers_transaction_raises(run, users):
    with pytest.raises(RuntimeError, match="owns its transaction"), transaction.atomic():
        sign(run, users["operator1"], "drill_lead")
