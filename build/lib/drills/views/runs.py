"""Views of a drill run: planning it, its page (checklist, steps, timings,
follow-ups, sign-off status) and the POST-only write paths of that page.

Thin: each view declares its permission (PortalPermissionMixin), validates a form,
calls one service through `call_service` (a DomainError becomes a form error or a
message, never a 500) and redirects back to the run.
"""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from drills import selectors
from drills.forms import (
    AbortForm,
    ActionItemForm,
    ActionItemStatusForm,
    AutomationForm,
    PlanRunForm,
    PrecheckTickForm,
    StartForm,
    StepRecordForm,
)
from drills.models import DrillRun, DrillSchedule
from drills.services import automation, recording, runs
from drills.views._common import RUN, SIGN, VIEW, detail_url, run_or_404
from opsportal.core.web import PortalPermissionMixin, call_service
from opsportal.signoffs.services import (
    ROLE_LABELS,
    required_roles_for,
    signable_sha256,
    signoffs_for,
    valid_signoffs,
)

# ---------------------------------------------------------------------- planning


class DrillRunPlanView(PortalPermissionMixin, View):
    """Plan a run, ad hoc or from a schedule (`?schedule=<id>` pre-fills it)."""

    permission_required = RUN
    template_name = "drills/run_plan.html"

    def _schedule(self, request: HttpRequest) -> DrillSchedule | None:
        raw = request.GET.get("schedule") or request.POST.get("schedule")
        if not raw or not str(raw).isdigit():
            return None
        return (
            DrillSchedule.objects.select_related("procedure", "environment")
            .filter(pk=int(raw))
            .first()
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        schedule = self._schedule(request)
        initial: dict[str, Any] = {
            "lead": request.user.pk,
            "planned_at": timezone.now().replace(second=0, microsecond=0),
        }
        if schedule is not None:
            initial.update(procedure=schedule.procedure_id, environment=schedule.environment_id)
        return self._render(PlanRunForm(initial=initial), schedule)

    def post(self, request: HttpRequest) -> HttpResponse:
        schedule = self._schedule(request)
        form = PlanRunForm(request.POST)
        if not form.is_valid():
            return self._render(form, schedule, status=400)
        data = form.cleaned_data
        run = call_service(
            request,
            runs.drill_run_plan,
            form=form,
            procedure=data["procedure"],
            environment=data["environment"],
            lead=data["lead"],
            observer=data["observer"],
            participants=list(data["participants"]),
            planned_at=data["planned_at"],
            schedule=schedule,
            notes=data["notes"],
            actor=request.user,
        )
        if run is None:
            return self._render(form, schedule, status=400)
        messages.success(request, f"Drill #{run.pk} planned.")
        return HttpResponseRedirect(detail_url(run))

    def _render(
        self, form: PlanRunForm, schedule: DrillSchedule | None, status: int = 200
    ) -> HttpResponse:
        return render(
            self.request, self.template_name, {"form": form, "schedule": schedule}, status=status
        )


# ------------------------------------------------------------------------ detail


def render_detail(
    request: HttpRequest,
    run: DrillRun,
    *,
    status: int = 200,
    bound_step: tuple[int, django_forms.Form] | None = None,
    **forms: Any,
) -> HttpResponse:
    """The run page; `forms` replaces the blank form of that name (with its errors),
    `bound_step` = (step result id, form) the step form that failed validation."""
    slug = run.procedure_version.procedure.slug
    steps = []
    for result in run.step_results.all():
        if bound_step is not None and bound_step[0] == result.pk:
            form = bound_step[1]
        else:
            form = StepRecordForm(
                initial={
                    "outcome": result.outcome if result.outcome != "pending" else "pass",
                    "measured_seconds": result.measured_seconds,
                    "observations": result.observations,
                    "evidence_links": "\n".join(result.evidence_links),
                    "skip_reason": result.skip_reason,
                },
                prefix=f"step{result.pk}",
            )
        steps.append(
            {
                "result": result,
                "form": form,
                "automation": selectors.automation_kind(slug, result.step),
            }
        )
    signoffs = list(signoffs_for(run, include_void=True))
    content_sha256 = signable_sha256(run)
    required = required_roles_for(run)
    signed_roles = {s.role for s in valid_signoffs(run, content_sha256=content_sha256)}
    context = {
        "run": run,
        "version": run.procedure_version,
        "steps": steps,
        "timings": selectors.timing_summary(run),
        "result_summary": selectors.run_result_summary(run),
        "prechecks": run.prechecks.all(),
        "prechecks_open": sum(1 for i in run.prechecks.all() if i.done_at is None),
        "action_items": run.action_items.all(),
        "signoffs": signoffs,
        "content_sha256": content_sha256,
        "required_roles": [
            {"role": r, "label": ROLE_LABELS.get(r, r), "signed": r in signed_roles}
            for r in required
        ],
        "is_live": run.environment.mode == "LIVE",
        "is_crew": request.user.pk in {run.lead_id, run.observer_id}
        or any(p.pk == request.user.pk for p in run.participants.all()),
        "can_run": request.user.has_perm(RUN),
        "can_sign": request.user.has_perm(SIGN),
        "start_form": StartForm(),
        "precheck_form": PrecheckTickForm(),
        "automation_form": AutomationForm(),
        "action_form": ActionItemForm(run=run),
        "status_form": ActionItemStatusForm(),
        "abort_form": AbortForm(),
        "page_environment_id": run.environment_id,  # the header's kill button preselects it
        **forms,
    }
    return render(request, "drills/run_detail.html", context, status=status)


class DrillRunDetailView(PortalPermissionMixin, View):
    permission_required = VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render_detail(request, run_or_404(request, pk))


class RunActionView(PortalPermissionMixin, View):
    """Base of the POST-only write paths of the run page: validate `form_class`, call
    `perform`, redirect back; on bad input or a refusal re-render with 400."""

    http_method_names = ["post"]
    permission_required: str | tuple[str, ...] = RUN
    form_class: type[django_forms.Form] = PrecheckTickForm
    form_name = ""
    anchor = ""
    success_message = "Saved."

    def get_form(self, run: DrillRun, **kwargs: Any) -> django_forms.Form:
        return self.form_class(self.request.POST)

    def post(self, request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
        run = run_or_404(request, pk)
        if "result_id" in kwargs:
            if not any(r.pk == kwargs["result_id"] for r in run.step_results.all()):
                raise Http404("No such step in this drill.")
            self.anchor = f"step-{kwargs['result_id']}"
        form = self.get_form(run, **kwargs)
        if form.is_valid():
            result = self.perform(run, form, **kwargs)
            if result is not None:
                messages.success(request, self.message(result))
                return HttpResponseRedirect(detail_url(run, self.anchor))
        elif form.non_field_errors() or not self.form_name:
            for error in form.errors.values():
                messages.error(request, " ".join(str(message) for message in error))
        run = run_or_404(request, pk)
        return self.render_invalid(run, form, **kwargs)

    def render_invalid(self, run: DrillRun, form: django_forms.Form, **kwargs: Any) -> HttpResponse:
        extra: dict[str, Any] = {self.form_name: form} if self.form_name else {}
        return render_detail(self.request, run, status=400, **extra)

    def message(self, result: Any) -> str:
        return self.success_message

    def perform(self, run: DrillRun, form: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the service with the URL's keyword arguments (each subclass names the
        ones its URL has). Returns what the service returned, or None when it refused
        (`call_service` has put the message on the form or in the messages)."""
        raise NotImplementedError


class PrecheckTickView(RunActionView):
    anchor = "prechecks"
    success_message = "Checklist item ticked."

    def perform(self, run: DrillRun, form: Any, item_id: int) -> Any:
        if not run.prechecks.filter(pk=item_id).exists():
            raise Http404("No such checklist item.")
        return call_service(
            self.request,
            runs.drill_precheck_tick,
            item_id=item_id,
            actor=self.request.user,
            note=form.cleaned_data["note"],
        )


class RunStartView(RunActionView):
    form_class = StartForm
    form_name = "start_form"
    success_message = "Drill started."

    def perform(self, run: DrillRun, form: Any) -> Any:
        return call_service(
            self.request,
            runs.drill_run_start,
            form=form,
            run_id=run.pk,
            actor=self.request.user,
            confirm_live=form.cleaned_data["confirm_live"],
        )


class StepRecordView(RunActionView):
    form_name = "step"  # errors show on the step's own form (render_invalid)
    success_message = "Step recorded."

    def get_form(self, run: DrillRun, **kwargs: Any) -> django_forms.Form:
        return StepRecordForm(self.request.POST, prefix=f"step{kwargs['result_id']}")

    def perform(self, run: DrillRun, form: Any, result_id: int) -> Any:
        data = form.cleaned_data
        return call_service(
            self.request,
            recording.drill_step_record,
            form=form,
            result_id=result_id,
            actor=self.request.user,
            outcome=data["outcome"],
            measured_seconds=data["measured_seconds"],
            observations=data["observations"],
            evidence_links=data["evidence_links"],
            skip_reason=data["skip_reason"],
        )

    def message(self, result: Any) -> str:
        if result.outcome_reason:
            return f"Step {result.position} recorded as {result.outcome}: {result.outcome_reason}"
        return f"Step {result.position} recorded: {result.outcome}."

    def render_invalid(self, run: DrillRun, form: django_forms.Form, **kwargs: Any) -> HttpResponse:
        return render_detail(self.request, run, status=400, bound_step=(kwargs["result_id"], form))


class StepTriggerView(RunActionView):
    """ "Run automated trigger": the portal triggers the kill switch (reason drill)
    and times it to the gate's HALT."""

    permission_required = (RUN, "controls.trigger_killswitch")
    form_class = AutomationForm

    def perform(self, run: DrillRun, form: Any, result_id: int) -> Any:
        return call_service(
            self.request,
            automation.drill_step_trigger_automated,
            result_id=result_id,
            actor=self.request.user,
            confirm_live=form.cleaned_data["confirm_live"],
        )

    def message(self, result: Any) -> str:
        return (
            f"Kill switch triggered; gate answered HALT after {result.measured_seconds:.3f} s: "
            f"{result.outcome}."
            if result.outcome == "pass"
            else f"Automated trigger recorded as {result.outcome}. {result.observations}"
        )


class StepRecoveryStartView(RunActionView):
    permission_required = (RUN, "controls.recover_killswitch")
    form_class = AutomationForm

    def perform(self, run: DrillRun, form: Any, result_id: int) -> Any:
        return call_service(
            self.request,
            automation.drill_step_start_recovery,
            result_id=result_id,
            actor=self.request.user,
            confirm_live=form.cleaned_data["confirm_live"],
        )

    def message(self, result: Any) -> str:
        return (
            f"Recovery started: resume request #{result.pk} awaits a risk officer's approval. "
            "Then press “Record recovery”."
        )


class StepRecoveryRecordView(RunActionView):
    form_class = AutomationForm

    def perform(self, run: DrillRun, form: Any, result_id: int) -> Any:
        return call_service(
            self.request,
            automation.drill_step_record_recovery,
            result_id=result_id,
            actor=self.request.user,
            confirm_live=form.cleaned_data["confirm_live"],
        )

    def message(self, result: Any) -> str:
        return f"Recovery recorded: {result.measured_seconds:.3f} s, {result.outcome}."


class ActionItemAddView(RunActionView):
    form_name = "action_form"
    anchor = "issues"
    success_message = "Follow-up added."

    def get_form(self, run: DrillRun, **kwargs: Any) -> django_forms.Form:
        return ActionItemForm(self.request.POST, run=run)

    def perform(self, run: DrillRun, form: Any) -> Any:
        data = form.cleaned_data
        return call_service(
            self.request,
            recording.drill_action_item_add,
            form=form,
            run_id=run.pk,
            actor=self.request.user,
            title=data["title"],
            owner=data["owner"],
            due_on=data["due_on"],
            step_result_id=data["step"],
        )


class ActionItemStatusView(RunActionView):
    form_class = ActionItemStatusForm
    anchor = "issues"
    success_message = "Follow-up updated."

    def perform(self, run: DrillRun, form: Any, item_id: int) -> Any:
        if not run.action_items.filter(pk=item_id).exists():
            raise Http404("No such follow-up.")
        return call_service(
            self.request,
            recording.drill_action_item_set_status,
            item_id=item_id,
            actor=self.request.user,
            status=form.cleaned_data["status"],
        )


class RunCompleteView(RunActionView):
    form_class = django_forms.Form
    success_message = "Drill completed. It now needs its sign-offs."

    def perform(self, run: DrillRun, form: Any) -> Any:
        return call_service(
            self.request, runs.drill_run_complete, run_id=run.pk, actor=self.request.user
        )


class RunAbortView(RunActionView):
    form_class = AbortForm
    form_name = "abort_form"
    success_message = "Drill aborted."

    def perform(self, run: DrillRun, form: Any) -> Any:
        return call_service(
            self.request,
            runs.drill_run_abort,
            form=form,
            run_id=run.pk,
            actor=self.request.user,
            reason=form.cleaned_data["reason"],
        )
