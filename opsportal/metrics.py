"""`GET /metrics`: the portal's state in the Prometheus text format.

Values are read from the database at scrape time by `PortalCollector`, seven
queries whatever the data (environments, open incidents by severity, SLA breaches
by severity, pending approvals by action, failed delivery attempts by channel, the
last good clock offset per time source, the last intact audit-chain verification), plus
the request-latency histogram this process recorded (`RequestLatencyMiddleware`).

Access: a client address in METRICS_ALLOWED_IPS (default loopback only) or the
header `Authorization: Bearer <METRICS_TOKEN>` when a token is configured; anyone
else gets 403. The shell layer: it reads every app.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, F, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from incidents.models import OPEN_STATUSES, Incident, Status
from incidents.severity import SEVERITY_CODES
from opsportal.approvals.models import ApprovalRequest
from opsportal.audit.selectors import last_verification
from opsportal.controls.models import Environment
from opsportal.controls.selectors import gate_decisions
from opsportal.drift.models import TimeSource
from opsportal.notifications.models import Channel, Delivery

DECISIONS = ("ALLOW", "NEUTRAL", "HALT")

# Request latency of this process (each web worker keeps its own; Prometheus sums).
REQUEST_LATENCY = Histogram(
    "opsportal_request_duration_seconds",
    "Time to answer an HTTP request, by method and matched route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=None,
)


class PortalCollector(Collector):
    """The database-backed metrics, collected on each scrape."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        kill = GaugeMetricFamily(
            "opsportal_kill_switch_active",
            "1 when the environment's kill switch is engaged (KILLED or RECOVERING): "
            "the gate answers HALT.",
            labels=["environment"],
        )
        gate = GaugeMetricFamily(
            "opsportal_gate_decision",
            "1 for the environment's current gate decision, 0 for the others.",
            labels=["environment", "decision"],
        )
        for env, decision in gate_decisions():  # one query
            killed = env.kill_switch != Environment.KillSwitch.ACTIVE
            kill.add_metric([env.slug], 1.0 if killed else 0.0)
            for name in DECISIONS:
                gate.add_metric([env.slug, name], 1.0 if decision.decision == name else 0.0)
        yield kill
        yield gate

        open_counts = dict(
            Incident.objects.filter(status__in=OPEN_STATUSES)
            .values_list("severity")
            .annotate(n=Count("id"))
            .values_list("severity", "n")
        )
        incidents_open = GaugeMetricFamily(
            "opsportal_incidents_open", "Open incidents by severity.", labels=["severity"]
        )
        for code in SEVERITY_CODES:
            incidents_open.add_metric([code], float(open_counts.get(code, 0)))
        yield incidents_open

        breached = dict(
            Incident.objects.exclude(status=Status.DECLINED)
            .filter(
                Q(acknowledged_at__isnull=False, acknowledged_at__gt=F("ack_due_at"))
                | Q(acknowledged_at__isnull=True, ack_due_at__lt=now)
            )
            .values_list("severity")
            .annotate(n=Count("id"))
            .values_list("severity", "n")
        )
        sla = CounterMetricFamily(
            "opsportal_sla_breaches",
            "Incidents whose response SLA was missed (acknowledged late or not yet "
            "acknowledged past the deadline), by severity.",
            labels=["severity"],
        )
        for code in SEVERITY_CODES:
            sla.add_metric([code], float(breached.get(code, 0)))
        yield sla

        pending = GaugeMetricFamily(
            "opsportal_approvals_pending",
            "Four-eyes requests waiting for a decision (not expired), by action.",
            labels=["action"],
        )
        for action, n in (
            ApprovalRequest.objects.filter(
                status=ApprovalRequest.Status.PENDING, expires_at__gt=now
            )
            .values_list("action")
            .annotate(n=Count("id"))
            .values_list("action", "n")
        ):
            pending.add_metric([action], float(n))
        yield pending

        failed_attempts = dict(
            Delivery.objects.values_list("channel")
            .annotate(
                n=Sum("attempts") - Count("id", filter=Q(status=Delivery.Status.SENT)),
            )
            .values_list("channel", "n")
        )
        failed = CounterMetricFamily(
            "opsportal_notifications_failed",
            "Failed notification delivery attempts (each retry that failed), by channel.",
            labels=["channel"],
        )
        for channel in Channel.values:
            failed.add_metric([channel], float(failed_attempts.get(channel) or 0))
        yield failed

        offset = GaugeMetricFamily(
            "opsportal_clock_offset_ms",
            "Offset of the source's clock from ours in ms at the last good check "
            "(positive: our clock runs behind the source).",
            labels=["source"],
        )
        for name, offset_ms in (  # one query: the source row keeps its last good check
            TimeSource.objects.filter(enabled=True, last_offset_ms__isnull=False)
            .order_by("name")
            .values_list("name", "last_offset_ms")
        ):
            offset.add_metric([name], float(offset_ms or 0.0))
        yield offset

        verified = last_verification(ok_only=True)  # one query
        yield GaugeMetricFamily(
            "opsportal_audit_last_verified_timestamp_seconds",
            "Unix time when the last verification that found the audit chain intact "
            "finished (0: never verified intact).",
            value=verified.finished_at.timestamp() if verified is not None else 0.0,
        )


def build_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PortalCollector())
    registry.register(REQUEST_LATENCY)
    return registry


REGISTRY = build_registry()


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(raw.strip(), token):
            return True
    return request.META.get("REMOTE_ADDR", "") in settings.METRICS_ALLOWED_IPS


@login_not_required
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


class RequestLatencyMiddleware:
    """Times every request into REQUEST_LATENCY (route = the URL pattern's name, so
    the label set stays small)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match: Any = getattr(request, "resolver_match", None)
        route = (match.view_name if match is not None else "") or "unmatched"
        REQUEST_LATENCY.labels(request.method or "", route).observe(time.perf_counter() - started)
        return response
