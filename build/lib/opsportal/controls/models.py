"""Trading environments: mode (DRY_RUN/LIVE), kill switch, their history, and the
tokens trading engines use to read the gate.

Both state machines are declared here once (django-fsm-2, protected fields); only
`controls.services` calls the transitions. Every change bumps `Environment.version`,
the number engines see in the gate answer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition


class Environment(FSMModelMixin, models.Model):
    class Mode(models.TextChoices):
        DRY_RUN = "DRY_RUN", "DRY_RUN"
        LIVE = "LIVE", "LIVE"

    class KillSwitch(models.TextChoices):
        ACTIVE = "ACTIVE", "ACTIVE"
        KILLED = "KILLED", "KILLED"
        RECOVERING = "RECOVERING", "RECOVERING"

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    venue = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    mode = FSMField(max_length=8, choices=Mode.choices, default=Mode.DRY_RUN, protected=True)
    mode_changed_at = models.DateTimeField(default=timezone.now)
    dry_run_since = models.DateTimeField(
        null=True,
        blank=True,
        default=timezone.now,
        help_text="Start of the current DRY_RUN period.",
    )
    last_rollback_at = models.DateTimeField(null=True, blank=True)
    kill_switch = FSMField(
        max_length=12, choices=KillSwitch.choices, default=KillSwitch.ACTIVE, protected=True
    )
    killed_at = models.DateTimeField(null=True, blank=True)
    kill_reason_code = models.CharField(max_length=32, blank=True)
    recovery_cooldown_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Seconds after a trigger before recovery may start. Empty: the portal "
        "default (OPSPORTAL_KILL_SWITCH_COOLDOWN_SECONDS).",
    )
    last_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time the kill switch was seen to work (a drill)."
    )
    # The approvals request that resumes trading while RECOVERING. An id, not a
    # foreign key, so this app's migrations do not depend on the approvals app's.
    resume_request_id = models.BigIntegerField(null=True, blank=True, editable=False)
    version = models.PositiveBigIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["slug"]
        permissions = [
            ("trigger_killswitch", "Can trigger the kill switch"),
            ("recover_killswitch", "Can start kill-switch recovery"),
            ("request_live_transition", "Can request the DRY_RUN to LIVE transition"),
            ("rollback_mode", "Can roll back LIVE to DRY_RUN"),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def cooldown_seconds(self) -> int:
        if self.recovery_cooldown_seconds is not None:
            return self.recovery_cooldown_seconds
        return int(settings.OPSPORTAL_KILL_SWITCH_COOLDOWN_SECONDS)

    # --- kill switch: ACTIVE -> KILLED -> RECOVERING -> ACTIVE, RECOVERING -> KILLED ---
    @transition(
        field=kill_switch,
        source=[KillSwitch.ACTIVE, KillSwitch.RECOVERING],
        target=KillSwitch.KILLED,
    )
    def kill(self) -> None:
        pass

    @transition(field=kill_switch, source=KillSwitch.KILLED, target=KillSwitch.RECOVERING)
    def start_recovery(self) -> None:
        pass

    @transition(field=kill_switch, source=KillSwitch.RECOVERING, target=KillSwitch.ACTIVE)
    def complete_recovery(self) -> None:
        pass

    # --- mode: DRY_RUN <-> LIVE ---
    @transition(field=mode, source=Mode.DRY_RUN, target=Mode.LIVE)
    def go_live(self) -> None:
        pass

    @transition(field=mode, source=Mode.LIVE, target=Mode.DRY_RUN)
    def roll_back(self) -> None:
        pass


class ReasonCode(models.TextChoices):
    """Why the kill switch was triggered (emergency levels: live-trading runbook 5.1)."""

    MANUAL = "manual", "Manual"
    EMERGENCY_L1 = "emergency_l1", "Emergency L1 — anomaly detected"
    EMERGENCY_L2 = "emergency_l2", "Emergency L2 — system malfunction"
    EMERGENCY_L3 = "emergency_l3", "Emergency L3 — critical failure"
    EMERGENCY_L4 = "emergency_l4", "Emergency L4 — security breach"
    THRESHOLD_PNL = "threshold_pnl", "Threshold — P&L breach"
    THRESHOLD_DRAWDOWN = "threshold_drawdown", "Threshold — max drawdown"
    CLOCK_DRIFT = "clock_drift", "Clock drift"
    SECURITY = "security", "Security — unauthorised trading"
    DRILL = "drill", "Drill"


class KillSwitchEvent(models.Model):
    """One entry of an environment's kill-switch history (append-only)."""

    class Kind(models.TextChoices):
        TRIGGERED = "triggered", "Triggered"
        TRIGGER_REPEATED = "trigger_repeated", "Triggered while already killed (no change)"
        RECOVERY_STARTED = "recovery_started", "Recovery started"
        RECOVERY_COMPLETED = "recovery_completed", "Recovery completed"

    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="kill_switch_events"
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_state = models.CharField(max_length=12, choices=Environment.KillSwitch.choices)
    to_state = models.CharField(max_length=12, choices=Environment.KillSwitch.choices)
    reason_code = models.CharField(max_length=32, choices=ReasonCode.choices, blank=True)
    note = models.TextField(blank=True)
    # The linked incident's number. Not a foreign key: controls sits below incidents
    # and learns the id from the incidents app's listener (controls/hooks.py).
    incident_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    approval_request_id = models.BigIntegerField(null=True, blank=True)
    is_drill = models.BooleanField(default=False)
    version = models.PositiveBigIntegerField(help_text="Environment version after the event.")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["environment", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.environment} {self.kind} {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class ModeChange(models.Model):
    """One change of an environment's mode (append-only)."""

    class Kind(models.TextChoices):
        LIVE_TRANSITION = "live_transition", "DRY_RUN → LIVE (approved)"
        ROLLBACK = "rollback", "LIVE → DRY_RUN (rollback)"

    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="mode_changes"
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_mode = models.CharField(max_length=8, choices=Environment.Mode.choices)
    to_mode = models.CharField(max_length=8, choices=Environment.Mode.choices)
    reason = models.TextField()
    # The linked incident's number. Not a foreign key: controls sits below incidents
    # and learns the id from the incidents app's listener (controls/hooks.py).
    incident_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    approval_request_id = models.BigIntegerField(null=True, blank=True)
    is_drill = models.BooleanField(default=False)
    version = models.PositiveBigIntegerField(help_text="Environment version after the change.")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["environment", "-occurred_at"])]

    def __str__(self) -> str:
        when = f"{self.occurred_at:%Y-%m-%d %H:%M}"
        return f"{self.environment} {self.from_mode}→{self.to_mode} {when}"


class GateToken(models.Model):
    """A trading engine's credential for the gate, and nothing else.

    Only the SHA-256 of the token is stored; `issue_gate_token` prints the token
    once. `environment` empty = the token may read every environment's gate.
    """

    name = models.CharField(max_length=100)
    environment = models.ForeignKey(
        Environment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="gate_tokens",
        help_text="Empty: every environment.",
    )
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=16, editable=False, help_text="First characters, to recognise it."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        scope = self.environment.slug if self.environment is not None else "all"
        return f"{self.name} ({scope}, {self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiToken(models.Model):
    """A person's credential for the people API (scripts, the runbook's CLI from a
    laptop): it acts as its user, with exactly the user's permissions. Only the
    SHA-256 is stored; `issue_api_token` prints the token once; admins revoke it.
    Distinct from GateToken on purpose: an engine's token can never act as a person.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user}, {self.prefix}…)"
