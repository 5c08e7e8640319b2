"""`/environments/gate-tokens/`: admins issue and revoke the trading engines' gate
tokens in the portal (issue 14). The raw token appears once, in the answer to the
POST that issued it (never cached, never stored: only its SHA-256 is), and never
again; `manage.py issue_gate_token` remains for scripts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from opsportal.controls.forms import GateTokenIssueForm
from opsportal.controls.models import GateToken
from opsportal.controls.services import gate_token_issue, gate_token_revoke
from opsportal.core.web import PortalPermissionMixin, call_service


def _tokens() -> Any:
    return GateToken.objects.select_related("environment", "created_by").order_by(
        "revoked_at", "-created_at"
    )


def render_tokens(
    request: HttpRequest,
    *,
    form: GateTokenIssueForm | None = None,
    issued: tuple[GateToken, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "tokens": _tokens(),
        "form": form or GateTokenIssueForm(),
        "issued": issued,
        "can_issue": request.user.has_perm("controls.add_gatetoken"),
        "can_revoke": request.user.has_perm("controls.change_gatetoken"),
    }
    return render(request, "controls/gate_tokens.html", context, status=status)


@method_decorator(never_cache, name="dispatch")
class GateTokenListView(PortalPermissionMixin, View):
    """GET: the tokens (name, scope, prefix, created, last used, revoked). POST issues
    one (controls.add_gatetoken) and shows its secret in this answer only."""

    def get_permission_required(self) -> tuple[str, ...]:
        if self.request.method == "POST":
            return ("controls.add_gatetoken",)
        return ("controls.view_gatetoken",)

    def get(self, request: HttpRequest) -> HttpResponse:
        return render_tokens(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = GateTokenIssueForm(request.POST)
        if not form.is_valid():
            return render_tokens(request, form=form, status=400)
        issued = call_service(
            request,
            gate_token_issue,
            form=form,
            name=form.cleaned_data["name"],
            environment=form.cleaned_data["environment"],
            actor=request.user,
        )
        if issued is None:
            return render_tokens(request, form=form, status=400)
        return render_tokens(request, issued=issued)


class GateTokenRevokeView(PortalPermissionMixin, View):
    """POST `/environments/gate-tokens/<pk>/revoke`: revoke (controls.change_gatetoken)."""

    permission_required = "controls.change_gatetoken"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = call_service(request, gate_token_revoke, token_id=pk, actor=request.user)
        if token is not None:
            messages.success(
                request,
                f"Gate token '{token.name}' ({token.prefix}…) revoked: its next gate read is "
                "refused.",
            )
        return HttpResponseRedirect(reverse("controls:gate_tokens"))
