"""Writes for trading controls: kill switch (kill_switch.py), mode (mode.py), tokens
(tokens.py) and environments (environments.py).

Rules (DESIGN "Trading environment and controls", live-trading runbook 3–5):

- Any operator kills at once: `kill_switch_trigger` never waits for a second person
  and never fails because something around it (incident, playbook, approvals) does.
- Recovery starts after the cooldown (`kill_switch_recover`) and completes only
  through a `kill_switch_resume` approval request granted by a risk officer other
  than the requester (`kill_switch_recovery_complete_in_transaction` is that action's
  execute).
- DRY_RUN → LIVE is a `live_transition` approval request (`live_transition_request`;
  `mode_go_live_in_transaction` is its execute). LIVE → DRY_RUN is immediate
  (`mode_rollback`).

Every state change locks the environment row, bumps its `version`, writes a history
row (KillSwitchEvent / ModeChange) and an audit event, and tells the registered
control listeners (`opsportal.controls.hooks`: the incidents app opens the SEV1 of a
trigger and writes timeline entries), all in one transaction.
"""

from opsportal.controls.services.checklists import mode_change_checklist_item_tick
from opsportal.controls.services.environments import (
    environment_save,
    environment_save_in_transaction,
)
from opsportal.controls.services.kill_switch import (
    ACTION_KILL_SWITCH_RESUME,
    kill_switch_recover,
    kill_switch_recover_in_transaction,
    kill_switch_recovery_complete_in_transaction,
    kill_switch_trigger,
)
from opsportal.controls.services.mode import (
    ACTION_LIVE_TRANSITION,
    LIVE_TRANSITION_PROCEDURE,
    ROLLBACK_PROCEDURE,
    live_transition_request,
    mode_go_live_in_transaction,
    mode_rollback,
)
from opsportal.controls.services.tokens import (
    api_token_issue,
    api_token_revoke,
    gate_token_issue,
    gate_token_revoke,
    hash_token,
    token_touch,
)

__all__ = [
    "ACTION_KILL_SWITCH_RESUME",
    "ACTION_LIVE_TRANSITION",
    "LIVE_TRANSITION_PROCEDURE",
    "ROLLBACK_PROCEDURE",
    "api_token_issue",
    "api_token_revoke",
    "environment_save",
    "environment_save_in_transaction",
    "gate_token_issue",
    "gate_token_revoke",
    "hash_token",
    "kill_switch_recover",
    "kill_switch_recover_in_transaction",
    "kill_switch_recovery_complete_in_transaction",
    "kill_switch_trigger",
    "live_transition_request",
    "mode_change_checklist_item_tick",
    "mode_go_live_in_transaction",
    "mode_rollback",
    "token_touch",
]
