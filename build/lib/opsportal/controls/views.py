"""Pages: environment list and detail, and the POST endpoints of the control actions
(kill switch trigger from the header, recover, request live, rollback). Each action
view declares its permission and calls one service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import ListView

from opsportal.controls import hooks, preconditions, selectors, services
from opsportal.controls.forms import KillSwitchTriggerForm, LiveTransitionForm, ReasonForm
from opsportal.controls.models import Environment
from opsportal.controls.verification import kill_switch_verification
from opsportal.core.errors import NotFound
from opsportal.core.web import PortalPermissionMixin, call_service


def _env_or_404(request: HttpRequest, slug: str) -> Environment:
    try:
        return selectors.get_environment_for(request.user, slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _decision(env: Environment) -> selectors.GateDecision:
    return selectors.decide(
        {"mode": env.mode, "kill_switch": env.kill_switch, "version": env.version}
    )


def approval_url(request_id: int | None) -> str | None:
    """The approvals app's page for a request, when it has one."""
    if request_id is None:
        return None
    try:
        return reverse("approvals:detail", args=[request_id])
    except NoReverseMatch:
        return None


class EnvironmentListView(PortalPermissionMixin, ListView):
    permission_required = "controls.view_environment"
    model = Environment
    template_name = "controls/environment_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = [(env, _decision(env)) for env in context["object_list"]]
        return context


def render_detail(
    request: HttpRequest,
    env: Environment,
    *,
    status: int = 200,
    recover_form: ReasonForm | None = None,
    live_form: LiveTransitionForm | None = None,
    rollback_form: ReasonForm | None = None,
) -> HttpResponse:
    user = request.user
    checklist_version, items = preconditions.pre_live_checklist_items()
    env_checks = [p.check(env) for p in preconditions.live_preconditions()]
    context = {
        "env": env,
        "decision": _decision(env),
        "history": selectors.environment_history(env),
        "cooldown_left": selectors.cooldown_remaining_seconds(env),
        # What the go-live precondition checks too (controls/verification.py).
        "verification": kill_switch_verification(env),
        "resume_request_url": approval_url(env.resume_request_id),
        "can": {
            "trigger": user.has_perm("controls.trigger_killswitch"),
            "recover": user.has_perm("controls.recover_killswitch"),
            "live": user.has_perm("controls.request_live_transition"),
            "rollback": user.has_perm("controls.rollback_mode"),
        },
        "recover_form": recover_form or ReasonForm(prefix="recover"),
        "live_form": live_form or LiveTransitionForm(prefix="live", items=items),
        "rollback_form": rollback_form or ReasonForm(prefix="rollback"),
        "checklist_version": checklist_version,
        "env_checks": env_checks,
        "trigger_form": KillSwitchTriggerForm(initial={"environment": env.slug}, prefix="detail"),
        # The rollback / live-transition checklists of the latest mode changes, to
        # work through here (ModeChecklistTickView), and the pre-live checklist.
        "mode_checklists": selectors.mode_change_checklists(environment=env),
        "pre_live_items": items,
        "page_environment_id": env.pk,  # the header's kill button preselects it
    }
    return render(request, "controls/environment_detail.html", context, status=status)


class EnvironmentDetailView(PortalPermissionMixin, View):
    permission_required = "controls.view_environment"

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        return render_detail(request, _env_or_404(request, slug))


def _safe_next(request: HttpRequest, fallback: str) -> str:
    candidate = request.POST.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


class KillSwitchTriggerView(PortalPermissionMixin, View):
    """The header kill button posts here (second click: the confirm). GET shows the
    same form as a page of its own."""

    permission_required = "controls.trigger_killswitch"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = KillSwitchTriggerForm(
            initial={
                "environment": request.GET.get("environment"),
                "incident": request.GET.get("incident"),
            }
        )
        return render(request, "controls/trigger.html", {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = KillSwitchTriggerForm(request.POST, prefix=request.POST.get("prefix") or None)
        if form.is_valid():
            env = form.cleaned_data["environment"]
            event = call_service(
                request,
                _trigger_linked,
                form=form,
                environment=env,
                actor=request.user,
                reason_code=form.cleaned_data["reason_code"],
                note=form.cleaned_data["note"],
                incident=form.incident_to_link(),
            )
            if event is not None:
                if event.kind == event.Kind.TRIGGER_REPEATED:
                    messages.warning(
                        request, f"{env.slug} was already KILLED; the attempt is recorded."
                    )
                else:
                    messages.success(request, f"Kill switch triggered on {env.slug}: HALT.")
                return HttpResponseRedirect(reverse("controls:detail", args=[env.slug]))
        return render(request, "controls/trigger.html", {"form": form}, status=400)


def _trigger_linked(
    *, actor: Any, incident: int | None, environment: Environment, **kwargs: Any
) -> Any:
    """Trigger, linking the incident the user named (ValidationFailed "incident" when
    it is not an open incident of that environment they can see; nothing is
    triggered then)."""
    incident_id = hooks.resolve_incident_link(actor, incident, environment=environment)
    return services.kill_switch_trigger(
        actor=actor, incident_id=incident_id, environment=environment, **kwargs
    )


class KillSwitchRecoverView(PortalPermissionMixin, View):
    permission_required = "controls.recover_killswitch"

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        env = _env_or_404(request, slug)
        form = ReasonForm(request.POST, prefix="recover")
        if form.is_valid():
            approval = call_service(
                request,
                services.kill_switch_recover,
                form=form,
                environment=env,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
            if approval is not None:
                messages.success(
                    request,
                    f"Recovery started: resume request #{approval.pk} waits for a risk officer.",
                )
                return HttpResponseRedirect(reverse("controls:detail", args=[env.slug]))
        env.refresh_from_db()
        return render_detail(request, env, status=400, recover_form=form)


class LiveTransitionRequestView(PortalPermissionMixin, View):
    permission_required = "controls.request_live_transition"

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        env = _env_or_404(request, slug)
        _, items = preconditions.pre_live_checklist_items()
        form = LiveTransitionForm(request.POST, prefix="live", items=items)
        if form.is_valid():
            approval = call_service(
                request,
                services.live_transition_request,
                form=form,
                environment=env,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                attestations=form.attestations(),
            )
            if approval is not None:
                messages.success(
                    request,
                    f"Live transition requested: request #{approval.pk} waits for a second "
                    "person's approval.",
                )
                return HttpResponseRedirect(
                    approval_url(approval.pk) or reverse("controls:detail", args=[env.slug])
                )
        return render_detail(request, env, status=400, live_form=form)


class ModeRollbackView(PortalPermissionMixin, View):
    permission_required = "controls.rollback_mode"

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        env = _env_or_404(request, slug)
        form = ReasonForm(request.POST, prefix="rollback")
        if form.is_valid():
            change = call_service(
                request,
                services.mode_rollback,
                form=form,
                environment=env,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
            if change is not None:
                messages.success(
                    request,
                    f"{env.slug} rolled back to DRY_RUN. Work through the rollback checklist; "
                    "LIVE is blocked for 24 h.",
                )
                return HttpResponseRedirect(reverse("controls:detail", args=[env.slug]))
        return render_detail(request, env, status=400, rollback_form=form)


class ModeChecklistTickView(PortalPermissionMixin, View):
    """Tick an item of a rollback or live-transition checklist of the environment
    (from its page or from the linked incident's page: `next`). The view needs only
    the view permission; the service checks who may work through that checklist."""

    permission_required = "controls.view_environment"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str, item_id: int) -> HttpResponse:
        env = _env_or_404(request, slug)
        target = _safe_next(request, reverse("controls:detail", args=[env.slug]))
        note = (request.POST.get("note") or "").strip()
        if len(note) > 500 or "\x00" in note:
            messages.error(request, "The note must be at most 500 characters of text.")
            return HttpResponseRedirect(target)
        item = call_service(
            request,
            services.mode_change_checklist_item_tick,
            environment=env,
            item_id=item_id,
            actor=request.user,
            note=note,
        )
        if item is not None:
            messages.success(request, f"Step {item.position} ticked.")
        return HttpResponseRedirect(target)
