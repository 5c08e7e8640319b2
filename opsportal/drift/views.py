"""Drift pages: every source with its status and 24 h chart; a source's checks;
"check now" (operators)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from opsportal.controls.models import Environment
from opsportal.core.web import PortalPermissionMixin, call_service
from opsportal.drift import selectors
from opsportal.drift.chart import offset_chart
from opsportal.drift.config import config_baseline_propose
from opsportal.drift.forms import ProposeBaselineForm
from opsportal.drift.models import ClockCheck, TimeSource
from opsportal.drift.services import time_source_check_now

CHECKS_SHOWN = 200


class DriftOverviewView(PortalPermissionMixin, View):
    permission_required = "drift.view_timesource"

    def get(self, request: HttpRequest) -> HttpResponse:
        now = timezone.now()
        since = now - dt.timedelta(hours=24)
        rows = [
            {
                "row": row,
                "chart": offset_chart(
                    row.source, selectors.checks_since(row.source, since), now=now
                ),
            }
            for row in selectors.source_rows(now)
        ]
        return render(
            request,
            "drift/overview.html",
            {"rows": rows, "config": selectors.config_rows(request.user)},
        )


def _source_or_404(pk: int) -> TimeSource:
    source = TimeSource.objects.prefetch_related("environments").filter(pk=pk).first()
    if source is None:
        raise Http404("No such time source.")
    return source


class SourceDetailView(PortalPermissionMixin, View):
    permission_required = "drift.view_timesource"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        source = _source_or_404(pk)
        now = timezone.now()
        checks = list(ClockCheck.objects.filter(source=source)[:CHECKS_SHOWN])
        chart = offset_chart(
            source, selectors.checks_since(source, now - dt.timedelta(hours=24)), now=now
        )
        return render(
            request,
            "drift/source_detail.html",
            {
                "source": source,
                "status": selectors.effective_status(source, now),
                "checks": checks,
                "chart": chart,
            },
        )


class SourceCheckNowView(PortalPermissionMixin, View):
    permission_required = "drift.check_timesource"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        source = _source_or_404(pk)
        check = time_source_check_now(source=source, actor=request.user)
        if check is None:
            messages.warning(request, f"{source.name} is being checked already; try again.")
        elif check.offset_ms is None:
            messages.warning(request, f"{source.name}: {check.status} ({check.detail}).")
        else:
            messages.success(
                request,
                f"{source.name}: {check.status}, offset {check.offset_ms:+.1f} ± "
                f"{check.error_ms or 0:.1f} ms.",
            )
        return HttpResponseRedirect(reverse("drift:source", args=[source.pk]))


class ProposeBaselineView(PortalPermissionMixin, View):
    """Propose the environment's running configuration as its baseline: opens the
    four-eyes request and goes to its page (a risk officer approves it there)."""

    permission_required = "drift.propose_configbaseline"

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        env = Environment.objects.filter(slug=slug).first()
        if env is None:
            raise Http404("No such environment.")
        form = ProposeBaselineForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Give a reason for the new baseline.")
            return HttpResponseRedirect(reverse("drift:overview"))
        approval = call_service(
            request,
            config_baseline_propose,
            environment=env,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        if approval is None:
            return HttpResponseRedirect(reverse("drift:overview"))
        messages.success(request, "Baseline proposed: a risk officer must approve it.")
        return HttpResponseRedirect(reverse("approvals:detail", args=[approval.pk]))
