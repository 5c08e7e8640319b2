"""`python manage.py killswitch status|trigger|recover|complete-recovery|history
--env SLUG [--as USERNAME]` — the runbook's kill-switch verbs, with every rule the
browser has: the user's permissions, the cooldown, four-eyes completion (the
approvals engine refuses the requester and non risk officers) with the user's
password asked again (getpass, or `--password-stdin`).

The writes (trigger, recover, complete-recovery) act as the `--as` user and need it.
The reads (status, history) need no user: whoever can run manage.py can already read
the database; given `--as`, a read is checked against that user's permission.
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rest_framework.utils.encoders import JSONEncoder

from opsportal.accounts.models import User
from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.services import approval_grant
from opsportal.controls import hooks, selectors, services
from opsportal.controls.models import Environment, ReasonCode
from opsportal.controls.serializers import history_dict
from opsportal.core.errors import DomainError
from opsportal.core.request_context import request_context

PERMISSIONS = {
    "status": "controls.view_environment",
    "history": "controls.view_environment",
    "trigger": "controls.trigger_killswitch",
    "recover": "controls.recover_killswitch",
    "complete-recovery": "controls.view_environment",  # the approval policy decides who
}
READS = frozenset({"status", "history"})


class Command(BaseCommand):
    help = "Kill switch: status, trigger, recover, complete-recovery, history."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("verb", choices=list(PERMISSIONS))
        parser.add_argument("--env", required=True, help="Environment slug.")
        parser.add_argument(
            "--as",
            dest="username",
            help="Acting user: required for trigger, recover and complete-recovery.",
        )
        parser.add_argument("--reason-code", default=ReasonCode.MANUAL, choices=ReasonCode.values)
        parser.add_argument("--note", default="", help="trigger: note.")
        parser.add_argument("--incident", type=int, help="trigger: link this open incident.")
        parser.add_argument("--reason", default="", help="recover: why trading may resume.")
        parser.add_argument("--comment", default="", help="complete-recovery: comment.")
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from stdin."
        )
        parser.add_argument("--json", action="store_true", help="status/history as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        user = self.acting_user(verb, options["username"])
        env = Environment.objects.filter(slug=options["env"]).first()
        if env is None:
            raise CommandError(f"No environment '{options['env']}'.")
        with request_context(source="command"):
            try:
                getattr(self, "do_" + verb.replace("-", "_"))(user, env, options)
            except DomainError as exc:
                raise CommandError(f"refused ({exc.code}): {exc.message}") from exc

    def acting_user(self, verb: str, username: str | None) -> User | None:
        """The user `verb` acts as: None for a read without `--as`. Raises CommandError
        for a write without `--as`, an unknown or inactive user, or one without the
        verb's permission (PERMISSIONS)."""
        if username is None:
            if verb in READS:
                return None
            raise CommandError(f"'{verb}' changes the kill switch: name the acting user with --as.")
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user '{username}'.")
        if not user.has_perm(PERMISSIONS[verb]):
            raise CommandError(f"{user} may not '{verb}' (needs {PERMISSIONS[verb]}).")
        return user

    def do_status(self, user: Any, env: Environment, options: dict) -> None:
        decision = selectors.gate_decision(env.slug)
        env.refresh_from_db()
        data = {
            "environment": env.slug,
            "mode": env.mode,
            "kill_switch": env.kill_switch,
            "killed_at": env.killed_at.isoformat() if env.killed_at else None,
            "cooldown_remaining_seconds": selectors.cooldown_remaining_seconds(env),
            "resume_request": env.resume_request_id,
            "gate": decision.as_dict(),
        }
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        for key, value in data.items():
            self.stdout.write(f"{key}: {value}")

    def do_history(self, user: Any, env: Environment, options: dict) -> None:
        entries = selectors.environment_history(env)
        if options["json"]:
            # The API's shape (GET /api/v1/environments/<slug>/history), one JSON list.
            rows = [history_dict(h) for h in entries]
            self.stdout.write(json.dumps(rows, cls=JSONEncoder))
            return
        for h in entries:
            self.stdout.write(
                f"{h.occurred_at:%Y-%m-%d %H:%M:%S} {h.kind:<20} {h.from_state}->{h.to_state} "
                f"{h.actor} {h.reason_code} {h.note}".rstrip()
            )

    def do_trigger(self, user: Any, env: Environment, options: dict) -> None:
        event = services.kill_switch_trigger(
            environment=env,
            actor=user,
            reason_code=options["reason_code"],
            note=options["note"],
            incident_id=hooks.resolve_incident_link(user, options["incident"], environment=env),
        )
        if event.kind == event.Kind.TRIGGER_REPEATED:
            self.stdout.write(f"{env.slug} was already KILLED; attempt recorded.")
        else:
            linked = f" incident #{event.incident_id}" if event.incident_id else ""
            self.stdout.write(f"{env.slug} KILLED (gate HALT, version {event.version}).{linked}")

    def do_recover(self, user: Any, env: Environment, options: dict) -> None:
        request = services.kill_switch_recover(
            environment=env, actor=user, reason=options["reason"]
        )
        self.stdout.write(
            f"{env.slug} RECOVERING; resume request #{request.pk} waits for a risk officer."
        )

    def do_complete_recovery(self, user: Any, env: Environment, options: dict) -> None:
        env.refresh_from_db()
        if env.kill_switch != Environment.KillSwitch.RECOVERING or env.resume_request_id is None:
            raise CommandError(f"{env.slug} is {env.kill_switch}: no recovery to complete.")
        request = ApprovalRequest.objects.get(pk=env.resume_request_id)
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"Password for {user}: ")
        result = approval_grant(
            request_id=request.pk,
            actor=user,
            password=password,
            payload_sha256=request.payload_sha256,
            comment=options["comment"],
        )
        if result.status != ApprovalRequest.Status.EXECUTED:
            reason = result.failure_reason or result.get_status_display()
            raise CommandError(f"request #{result.pk} {result.status}: {reason}")
        self.stdout.write(f"{env.slug} ACTIVE: recovery completed (request #{result.pk}).")
