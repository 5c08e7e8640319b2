from django.apps import AppConfig


class DrillsConfig(AppConfig):
    name = "drills"
    verbose_name = "Drills and procedure library"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        from drills.permissions import ROLE_GRANTS
        from opsportal.accounts.roles import register_role_grants

        register_role_grants(self.label, ROLE_GRANTS)
        from drills import audit_events  # noqa: F401
        from drills.selectors import (
            PRECONDITION_CODE,
            kill_switch_drill_precondition,
            kill_switch_drill_verification,
        )
        from drills.services import signing  # noqa: F401 - registers DrillRun as signable
        from opsportal.controls.preconditions import register_live_precondition
        from opsportal.controls.verification import register_verification_source

        # DESIGN "Trading environment and controls": going LIVE needs the kill switch
        # verified within 24 h; a completed kill-switch drill or verification is that.
        register_live_precondition(
            PRECONDITION_CODE, "Kill switch drilled within 24 h", kill_switch_drill_precondition
        )
        # The same evidence is what the environment page shows as "verified".
        register_verification_source(kill_switch_drill_verification)
