"""Real concurrent sessions against PostgreSQL: two people signing the same role of
one run (row lock on the target, partial unique constraint behind it), and several
clicks of the automated trigger at once (the run lock and the step's claim)."""

import threading

import pytest
from django.db import connection

from opsportal.core.errors import Conflict
from opsportal.signoffs.services import signable_sha256, signoff_sign
from tests.controls.factories import EnvironmentFactory
from tests.drills.factories import completed_run, publish
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_concurrent_signers_of_one_role_only_one_wins():
    lead = UserFactory(username="lead", roles=["operator"])
    risks = [UserFactory(username=f"risk{n}", roles=["risk_officer"]) for n in range(4)]
    run = completed_run(version=publish(), environment=EnvironmentFactory(slug="paper"), lead=lead)
    sha = signable_sha256(run)
    barrier = threading.Barrier(len(risks))
    outcomes: list[str] = []

    def worker(user):
        try:
            barrier.wait()
            signoff_sign(
                target=run, actor=user, role="risk_officer", password=PASSWORD, content_sha256=sha
            )
            outcomes.append("signed")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(u,)) for u in risks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["role_already_signed"] * 3 + ["signed"]


def test_concurrent_automated_triggers_time_one_trigger():
    from drills.services.automation import drill_step_trigger_automated
    from opsportal.controls.models import KillSwitchEvent
    from tests.drills.factories import plan, start

    lead = UserFactory(username="lead", roles=["operator"])
    run = start(plan(version=publish(), environment=EnvironmentFactory(slug="paper"), lead=lead))
    step = run.step_results.get(position=1)
    barrier = threading.Barrier(3)
    outcomes: list[str] = []

    def worker():
        try:
            barrier.wait()
            result = drill_step_trigger_automated(result_id=step.pk, actor=lead)
            outcomes.append(result.outcome)
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["pass", "refused", "refused"]
    assert KillSwitchEvent.objects.filter(kind="triggered").count() == 1
