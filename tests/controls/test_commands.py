import io
import json

import pytest
from django.core.management import CommandError, call_command

from opsportal.controls.models import Environment

pytestmark = pytest.mark.django_db


def killswitch(*args, stdin=None, monkeypatch=None):
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command("killswitch", *args, stdout=out)
    return out.getvalue()


def test_killswitch_status_prints_state_and_gate(env, users):
    out = killswitch("status", "--env", "paper", "--as", "auditor")

    assert "kill_switch: ACTIVE" in out and "'decision': 'ALLOW'" in out


def test_killswitch_status_needs_no_acting_user(env):
    out = killswitch("status", "--env", "paper", "--json")

    assert json.loads(out)["gate"]["decision"] == "ALLOW"


def test_killswitch_history_needs_no_acting_user(env, users, library, kill):
    kill(env, reason_code="emergency_l2")

    history = killswitch("history", "--env", "paper")

    assert "triggered" in history and "emergency_l2" in history


def test_killswitch_history_json_is_the_apis_shape(env, users, library, kill, client_for):
    kill(env, reason_code="emergency_l2")

    rows = json.loads(killswitch("history", "--env", "paper", "--json"))

    api = client_for("auditor").get("/api/v1/environments/paper/history").json()
    assert rows == api
    assert rows[0]["reason_code"] == "emergency_l2"


def test_killswitch_status_as_a_user_without_the_permission_is_refused(env, users):
    users["auditor"].groups.clear()

    with pytest.raises(CommandError, match="may not 'status'"):
        killswitch("status", "--env", "paper", "--as", "auditor")


@pytest.mark.parametrize("verb", ["trigger", "recover", "complete-recovery"])
def test_killswitch_write_without_acting_user_is_refused(env, users, verb):
    with pytest.raises(CommandError, match="name the acting user with --as"):
        killswitch(verb, "--env", "paper")

    assert Environment.objects.get().kill_switch == "ACTIVE"


def test_killswitch_trigger_kills_and_history_shows_it(env, users, library):
    out = killswitch(
        "trigger", "--env", "paper", "--as", "operator1", "--reason-code", "emergency_l1"
    )

    assert "KILLED" in out
    assert Environment.objects.get().kill_switch == "KILLED"
    history = killswitch("history", "--env", "paper", "--as", "auditor")
    assert "triggered" in history and "emergency_l1" in history


def test_killswitch_trigger_refused_for_auditor(env, users):
    with pytest.raises(CommandError, match="may not 'trigger'"):
        killswitch("trigger", "--env", "paper", "--as", "auditor")

    assert Environment.objects.get().kill_switch == "ACTIVE"


def test_killswitch_recover_in_cooldown_is_refused(env, users, library, kill):
    kill(env)

    with pytest.raises(CommandError, match="cooldown"):
        killswitch("recover", "--env", "paper", "--as", "operator1", "--reason", "fixed")


def test_killswitch_complete_recovery_by_requester_refused_then_risk_succeeds(
    env, users, library, kill, fast, password, monkeypatch
):
    users["operator1"].groups.add(*users["risk"].groups.all())
    kill(env)
    killswitch("recover", "--env", "paper", "--as", "operator1", "--reason", "fixed")

    with pytest.raises(CommandError, match="self_approval"):
        killswitch(
            "complete-recovery",
            "--env",
            "paper",
            "--as",
            "operator1",
            "--password-stdin",
            stdin=password + "\n",
            monkeypatch=monkeypatch,
        )
    out = killswitch(
        "complete-recovery",
        "--env",
        "paper",
        "--as",
        "risk",
        "--password-stdin",
        stdin=password + "\n",
        monkeypatch=monkeypatch,
    )

    assert "ACTIVE" in out
    assert Environment.objects.get().kill_switch == "ACTIVE"


def test_killswitch_complete_recovery_wrong_password_refused(
    env, users, library, kill, fast, monkeypatch
):
    kill(env)
    killswitch("recover", "--env", "paper", "--as", "operator1", "--reason", "fixed")

    with pytest.raises(CommandError, match="password"):
        killswitch(
            "complete-recovery",
            "--env",
            "paper",
            "--as",
            "risk",
            "--password-stdin",
            stdin="wrong\n",
            monkeypatch=monkeypatch,
        )

    assert Environment.objects.get().kill_switch == "RECOVERING"


def test_killswitch_complete_recovery_asks_password_with_getpass(
    env, users, library, kill, fast, password, monkeypatch
):
    kill(env)
    killswitch("recover", "--env", "paper", "--as", "operator1", "--reason", "fixed")
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or password)

    killswitch("complete-recovery", "--env", "paper", "--as", "risk")

    assert asked == ["Password for risk: "]
    assert Environment.objects.get().kill_switch == "ACTIVE"


def test_killswitch_unknown_environment_or_user(env, users):
    with pytest.raises(CommandError, match="No environment"):
        killswitch("status", "--env", "nope", "--as", "auditor")
    with pytest.raises(CommandError, match="No active user"):
        killswitch("status", "--env", "paper", "--as", "ghost")


def test_killswitch_complete_recovery_locks_after_repeated_wrong_passwords(
    env, users, library, kill, fast, password, monkeypatch, settings
):
    kill(env)
    killswitch("recover", "--env", "paper", "--as", "operator1", "--reason", "fixed")
    args = ("complete-recovery", "--env", "paper", "--as", "risk", "--password-stdin")
    for _ in range(settings.OPSPORTAL_LOGIN_FAILURE_LIMIT):
        with pytest.raises(CommandError):
            killswitch(*args, stdin="wrong\n", monkeypatch=monkeypatch)

    with pytest.raises(CommandError, match="Too many attempts with a wrong password: try again"):
        killswitch(*args, stdin=password + "\n", monkeypatch=monkeypatch)

    assert Environment.objects.get().kill_switch == "RECOVERING"
