"""Writes for four-eyes approvals. Every rule of DESIGN.md's "Approval request"
paragraph is enforced here, so it holds for every path (views, API, admin, commands,
shell):

- the policy is copied onto the request when it is made;
- the requester never approves (or rejects) their own request;
- one user counts once per payload revision (a database unique constraint);
- any rejection by an eligible approver vetoes, and is final;
- an expired, cancelled, rejected or finished request cannot be approved;
- an approval binds to the payload hash: amending the payload voids earlier approvals;
- the final approval claims the request (approved -> executing) under the row lock,
  in the same transaction, before any side effect; the action's preconditions are
  checked again and the request ends `executed` or `failed` with the reason;
- approving and rejecting ask for the approver's password again (step-up);
- refused attempts are audited in a transaction of their own, after the refused one
  has rolled back (each public service is a `service_entry_point`; the
  `_in_transaction` variants attach the refusal for the caller's entry point).

Modules: payload.py (canonical JSON, hash, size), requests.py (create, amend, cancel,
expire), decisions.py (grant, execute, reject), policies.py. Import the services from
here (`from opsportal.approvals.services import approval_grant`).

Lock order: the target row, then the request row. Code that holds a lock on a
target (an environment) and then calls `approval_cancel_in_transaction` follows the
same order.
"""

from opsportal.approvals.services.decisions import approval_grant, approval_reject
from opsportal.approvals.services.payload import (
    MAX_PAYLOAD_CHARS,
    payload_canonical_json,
    payload_sha256,
)
from opsportal.approvals.services.policies import (
    approval_policy_check_groups,
    approval_policy_save,
    approval_policy_save_in_transaction,
)
from opsportal.approvals.services.requests import (
    EXPIRE_BATCH_SIZE,
    approval_cancel,
    approval_cancel_in_transaction,
    approval_request_amend,
    approval_request_create,
    approval_request_create_in_transaction,
    approvals_expire_due,
)

__all__ = [
    "EXPIRE_BATCH_SIZE",
    "MAX_PAYLOAD_CHARS",
    "approval_cancel",
    "approval_cancel_in_transaction",
    "approval_grant",
    "approval_policy_check_groups",
    "approval_policy_save",
    "approval_policy_save_in_transaction",
    "approval_reject",
    "approval_request_amend",
    "approval_request_create",
    "approval_request_create_in_transaction",
    "approvals_expire_due",
    "payload_canonical_json",
    "payload_sha256",
]
