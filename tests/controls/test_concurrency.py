import threading

import pytest
from django.db import connection

from opsportal.controls import services
from opsportal.controls.models import Environment, KillSwitchEvent
from tests.controls.factories import EnvironmentFactory

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_concurrent_triggers_kill_once_and_record_every_attempt(users):
    env = EnvironmentFactory(slug="paper")
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def press(username: str) -> None:
        try:
            barrier.wait(5)
            services.kill_switch_trigger(
                environment=env, actor=users[username], reason_code="drill"
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    names = ["operator1", "operator2", "commander", "risk", "operator1", "operator2"]
    threads = [threading.Thread(target=press, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)

    env.refresh_from_db()
    assert errors == []
    assert (env.kill_switch, env.version) == ("KILLED", 2)
    kinds = sorted(KillSwitchEvent.objects.values_list("kind", flat=True))
    assert kinds == ["trigger_repeated"] * 5 + ["triggered"]


def test_trigger_racing_recovery_completion_never_leaves_active_after_the_trigger(
    users, password, settings
):
    """A kill racing the risk officer's approval: whichever commits last decides,
    and if the kill commits last the switch is KILLED (the approval then fails)."""
    from opsportal.approvals.services import approval_grant
    from opsportal.library.procedure_files import parse_procedure
    from opsportal.library.services import procedure_publish

    settings.OPSPORTAL_KILL_SWITCH_COOLDOWN_SECONDS = 0
    procedure_publish(
        spec=parse_procedure(
            {
                "slug": "p0-0-kill-switch-triggered",
                "kind": "incident_playbook",
                "severity": "SEV1",
                "title": "Kill",
                "steps": [{"title": "a", "instruction": "b"}],
            },
            origin="t",
        )
    )
    env = EnvironmentFactory(slug="paper")
    services.kill_switch_trigger(environment=env, actor=users["operator1"], reason_code="drill")
    request = services.kill_switch_recover(environment=env, actor=users["operator1"], reason="ok")
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def approve() -> None:
        barrier.wait(5)
        try:
            outcome["approval"] = approval_grant(
                request_id=request.pk,
                actor=users["risk"],
                password=password,
                payload_sha256=request.payload_sha256,
            ).status
        except Exception as exc:  # noqa: BLE001 - the refusal is the outcome
            outcome["approval"] = type(exc).__name__
        finally:
            connection.close()

    def kill() -> None:
        barrier.wait(5)
        try:
            outcome["kill"] = services.kill_switch_trigger(
                environment=env, actor=users["operator2"], reason_code="manual"
            ).kind
        finally:
            connection.close()

    threads = [threading.Thread(target=approve), threading.Thread(target=kill)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)

    env.refresh_from_db()
    # The kill always takes effect: either it came second (KILLED after ACTIVE) or
    # first (the approval then finds the request cancelled and changes nothing).
    assert outcome["kill"] == "triggered"
    assert env.kill_switch == Environment.KillSwitch.KILLED
