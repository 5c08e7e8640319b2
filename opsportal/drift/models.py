"""Drift checks (DESIGN "Drift checks"; live-trading runbook section 8).

Clock drift: a `TimeSource` (an exchange's HTTP time endpoint or an NTP server)
guards environments; every measurement is a `ClockCheck` (the evidence). The
source row also carries its current verdict: the status of its last check, the
streak of healthy checks (recovery needs two), and whether it holds its
environments in gate NEUTRAL (`neutral_reason`). The environments' gate columns
(`controls.Environment.neutral_reason`, `clock_fresh_until_ms`) are derived from
these rows by `drift.services` in the same transaction.

Configuration drift: a `ConfigTarget` says where an environment's running
configuration is read from; its approved baseline is stored on it (redacted: secret
values are kept only as hashes); each run is a `ConfigCheck`; a difference is a
`ConfigFinding`, resolved by a later clean check.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from opsportal.controls.models import Environment

DEFAULT_WARNING_MS = 500
DEFAULT_CRITICAL_MS = 800
DEFAULT_BREACH_MS = 1000
MAX_LIMIT_MS = 600_000


class ClockStatus(models.TextChoices):
    UNKNOWN = "unknown", "Not checked yet"
    HEALTHY = "healthy", "Healthy"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"
    BREACH = "breach", "Breach"
    UNREACHABLE = "unreachable", "Unreachable"
    STALE = "stale", "Stale"


def _limit(default: int) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(
        default=default, validators=[MinValueValidator(1), MaxValueValidator(MAX_LIMIT_MS)]
    )


class TimeSource(models.Model):
    class Kind(models.TextChoices):
        HTTP = "http", "Exchange HTTP time endpoint"
        NTP = "ntp", "NTP server"

    name = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    url = models.URLField(max_length=500, blank=True, help_text="HTTP sources: the time URL.")
    json_field = models.CharField(
        max_length=100,
        blank=True,
        help_text="HTTP sources: where the epoch milliseconds are in the JSON answer "
        "(dotted for nested keys), e.g. epochTime (VALR) or serverTime (Binance).",
    )
    ntp_host = models.CharField(max_length=255, blank=True)
    ntp_port = models.PositiveIntegerField(
        default=123, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    # Limits in ms for a local clock running ahead of the source (offset < 0) and one
    # running behind it (offset > 0). Exchanges reject future timestamps more strictly.
    ahead_warning_ms = _limit(DEFAULT_WARNING_MS)
    ahead_critical_ms = _limit(DEFAULT_CRITICAL_MS)
    ahead_breach_ms = _limit(DEFAULT_BREACH_MS)
    behind_warning_ms = _limit(DEFAULT_WARNING_MS)
    behind_critical_ms = _limit(DEFAULT_CRITICAL_MS)
    behind_breach_ms = _limit(DEFAULT_BREACH_MS)
    interval_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(86_400)]
    )
    samples = models.PositiveSmallIntegerField(
        default=8, validators=[MinValueValidator(1), MaxValueValidator(32)]
    )
    timeout_ms = models.PositiveIntegerField(
        default=2000, validators=[MinValueValidator(50), MaxValueValidator(10_000)]
    )
    environments = models.ManyToManyField(Environment, related_name="time_sources", blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    # --- the current verdict (drift.services only) ---
    status = models.CharField(
        max_length=12, choices=ClockStatus.choices, default=ClockStatus.UNKNOWN, editable=False
    )
    last_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_good_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_offset_ms = models.FloatField(null=True, blank=True, editable=False)
    last_error_ms = models.FloatField(null=True, blank=True, editable=False)
    healthy_streak = models.PositiveIntegerField(default=0, editable=False)
    neutral_reason = models.CharField(max_length=32, blank=True, editable=False)
    incident_id = models.BigIntegerField(null=True, blank=True, editable=False)
    next_due_at = models.DateTimeField(default=timezone.now, editable=False)
    # Per-source lock: a worker checking this source holds it until then (drift.tasks).
    checking_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        permissions = [("check_timesource", "Can run a clock-drift check now")]

    def __str__(self) -> str:
        return self.name

    @property
    def target(self) -> str:
        if self.kind == self.Kind.NTP:
            return f"ntp://{self.ntp_host}:{self.ntp_port}"
        return f"{self.url} ({self.json_field})"


class ClockCheck(models.Model):
    """One measurement of a source (append-only): the evidence."""

    source = models.ForeignKey(TimeSource, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=ClockStatus.choices)
    offset_ms = models.FloatField(null=True, blank=True)
    rtt_ms = models.FloatField(null=True, blank=True)
    error_ms = models.FloatField(null=True, blank=True)
    samples_taken = models.PositiveSmallIntegerField(default=0)
    samples_asked = models.PositiveSmallIntegerField(default=0)
    detail = models.CharField(max_length=500, blank=True)
    is_drill = models.BooleanField(default=False)

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["source", "-checked_at"])]

    def __str__(self) -> str:
        return f"{self.source} {self.status} {self.checked_at:%Y-%m-%d %H:%M:%S}"


class ConfigTarget(models.Model):
    """Where an environment's running configuration is read, and its approved baseline."""

    class Format(models.TextChoices):
        TOML = "toml", "TOML"
        JSON = "json", "JSON"

    environment = models.OneToOneField(
        Environment, on_delete=models.CASCADE, related_name="config_target"
    )
    location = models.CharField(
        max_length=500, help_text="A file path on the portal host, or an http(s) URL."
    )
    format = models.CharField(max_length=4, choices=Format.choices)
    interval_seconds = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(10), MaxValueValidator(86_400)]
    )
    enabled = models.BooleanField(default=True)
    # The approved baseline: normalised, secrets replaced by their hashes.
    baseline = models.JSONField(null=True, blank=True, editable=False)
    baseline_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    baseline_approval_request_id = models.BigIntegerField(null=True, blank=True, editable=False)
    baseline_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_status = models.CharField(max_length=12, blank=True, editable=False)
    incident_id = models.BigIntegerField(null=True, blank=True, editable=False)
    next_due_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["environment__slug"]
        permissions = [
            ("propose_configbaseline", "Can propose the running configuration as baseline")
        ]

    def __str__(self) -> str:
        return f"{self.environment} config"


class ConfigCheck(models.Model):
    class Status(models.TextChoices):
        MATCH = "match", "Matches the baseline"
        DRIFT = "drift", "Differs from the baseline"
        NO_BASELINE = "no_baseline", "No approved baseline"
        UNREADABLE = "unreadable", "Could not be read"

    target = models.ForeignKey(ConfigTarget, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices)
    running_sha256 = models.CharField(max_length=64, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.target} {self.status} {self.checked_at:%Y-%m-%d %H:%M:%S}"


class ConfigFinding(models.Model):
    """A difference between the running configuration and the baseline. `changes` is
    a list of {"path", "change", "old", "new"} with secret values as hashes only;
    `backup` the running document (redacted the same way) as evidence."""

    target = models.ForeignKey(ConfigTarget, on_delete=models.CASCADE, related_name="findings")
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    baseline_sha256 = models.CharField(max_length=64)
    running_sha256 = models.CharField(max_length=64)
    changes = models.JSONField(default=list)
    backup = models.JSONField(default=dict)
    incident_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"{self.target} finding {self.opened_at:%Y-%m-%d %H:%M}"
