"""Signing a drill run (the signer sees exactly what is signed: the canonical content
and its SHA-256) and its printable execution record."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from drills import selectors
from drills.models import DrillRun
from drills.views._common import SIGN, VIEW, detail_url, run_or_404
from opsportal.core.hashing import canonical_json
from opsportal.core.web import PortalPermissionMixin
from opsportal.signoffs.forms import SignForm, sign_from_form
from opsportal.signoffs.services import (
    ROLE_LABELS,
    required_roles_for,
    signable_content,
    signable_sha256,
    signoff_options_for,
    signoffs_for,
)


class DrillRunSignView(PortalPermissionMixin, View):
    """Shows exactly what is signed (the canonical content and its SHA-256) and
    signs it with the signer's password."""

    permission_required = SIGN
    template_name = "drills/run_sign.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = run_or_404(request, pk)
        # Only the roles this user may sign now; none left: the page says why.
        roles = signoff_options_for(run, request.user).roles
        default_role = self._default_role(run, roles)
        form = SignForm(
            roles=roles,
            initial={"content_sha256": signable_sha256(run), "role": default_role},
        )
        return self._render(run, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = run_or_404(request, pk)
        form = SignForm(request.POST, roles=required_roles_for(run))
        signoff = sign_from_form(request, form, run)
        if signoff is not None:
            run.refresh_from_db()
            suffix = " The drill is signed off." if run.state == "signed_off" else ""
            messages.success(
                request, f"Signed as {ROLE_LABELS.get(signoff.role, signoff.role)}.{suffix}"
            )
            return HttpResponseRedirect(detail_url(run, "signoffs"))
        run = run_or_404(request, pk)
        # Re-render with the hash the user saw, so a stale one stays visible as stale.
        return self._render(run, form, status=400)

    def _default_role(self, run: DrillRun, roles: list[str]) -> str | None:
        user = self.request.user
        if "drill_lead" in roles and user.pk == run.lead_id:
            return "drill_lead"
        if "observer" in roles and user.pk == run.observer_id:
            return "observer"
        if "risk_officer" in roles and user.groups.filter(name="risk_officer").exists():
            return "risk_officer"
        return roles[0] if roles else None

    def _render(self, run: DrillRun, form: SignForm, status: int = 200) -> HttpResponse:
        content = signable_content(run)
        context = {
            "run": run,
            "form": form,
            "options": signoff_options_for(run, self.request.user),
            "content_json": canonical_json(content),
            "content_pretty": _pretty(content),
            "content_sha256": signable_sha256(run),
            "signoffs": signoffs_for(run),
            "timings": selectors.timing_summary(run),
            "result_summary": selectors.run_result_summary(run),
        }
        return render(self.request, self.template_name, context, status=status)


def _pretty(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, indent=2, ensure_ascii=False)


class DrillRunRecordView(PortalPermissionMixin, View):
    """The printable drill execution record (HTML with print CSS)."""

    permission_required = VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = run_or_404(request, pk)
        context = {
            "run": run,
            "version": run.procedure_version,
            "timings": selectors.timing_summary(run),
            "result_summary": selectors.run_result_summary(run),
            "steps": run.step_results.all(),
            "prechecks": run.prechecks.all(),
            "action_items": run.action_items.all(),
            "signoffs": signoffs_for(run, include_void=True),
            "required_roles": required_roles_for(run),
            "content_sha256": signable_sha256(run),
            "generated_at": timezone.now(),
        }
        return render(request, "drills/run_record.html", context)
