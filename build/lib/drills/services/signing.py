"""The sign-off rules of drill runs, registered with the sign-off service
(`opsportal.signoffs.services.signoff_sign` makes the sign-offs). Imported by
`DrillsConfig.ready()` so the registration happens at start-up."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from drills.models.runs import DrillRun
from drills.selectors import drill_run_signable_content, signoff_roles_for_version
from opsportal.audit.services import audit_record
from opsportal.core.errors import Conflict, NotPermitted
from opsportal.signoffs.services import (
    SignableAdapter,
    register_signable,
    user_in_group,
    valid_signoffs,
)


class DrillRunSignable(SignableAdapter):
    """Sign-off rules for drill runs (ops-drills-and-rollback-evidence.md,
    "Sign-off requirements"): the roles come from the pinned procedure version;
    drill_lead must be the run's lead, observer the run's observer, risk_officer a
    member of the risk_officer group, second_signer anyone allowed to sign drills.
    A run is signed when completed; the last required sign-off makes it
    signed_off."""

    def content(self, target: DrillRun) -> dict[str, Any]:
        return drill_run_signable_content(target)

    def required_roles(self, target: DrillRun) -> list[str]:
        return signoff_roles_for_version(target.procedure_version)

    def check_can_sign(self, target: DrillRun) -> None:
        if target.state != DrillRun.State.COMPLETED:
            raise Conflict(
                f"Only a completed drill can be signed (this one is "
                f"{target.get_state_display().lower()}).",
                code="not_signable",
            )

    def check_role(self, target: DrillRun, user: Any, role: str) -> None:
        if not user.has_perm("drills.sign_drillrun"):
            raise NotPermitted("You may not sign drill records.", code="wrong_role")
        if role == "drill_lead" and user.pk != target.lead_id:
            raise NotPermitted(
                "Only the run's drill lead can sign as drill lead.", code="wrong_role"
            )
        if role == "observer" and user.pk != target.observer_id:
            raise NotPermitted("Only the run's observer can sign as observer.", code="wrong_role")
        if role == "risk_officer" and not user_in_group(user, "risk_officer"):
            raise NotPermitted("Only a risk officer can sign as risk officer.", code="wrong_role")

    def on_complete(self, target: DrillRun, actor: Any) -> None:
        target.sign_off()
        target.signed_off_at = timezone.now()
        target.save(update_fields=["state", "signed_off_at"])
        audit_record(
            actor=actor,
            event_type="drill_run.signed_off",
            obj=target,
            before={"state": "completed"},
            after={
                "state": target.state,
                "signers": {s.role: s.signer.get_username() for s in valid_signoffs(target)},
            },
        )


register_signable(DrillRun, DrillRunSignable())
