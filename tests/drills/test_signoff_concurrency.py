"""Two people sign the same role of one run at the same moment: exactly one wins
(row lock on the target, partial unique constraint behind it)."""

import threading

import pytest
from django.db import connection

from drills.services.signoffs import signable_sha256, signoff_sign
from opsportal.errors import Conflict
from tests.drills.factories import EnvironmentFactory, completed_run, publish
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
