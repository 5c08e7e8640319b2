"""A failed audit-chain verification opens a SEV1 (registered with the audit app's
`register_verification_failure_listener` in `IncidentsConfig.ready()`; audit sits
below incidents and never imports them)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, transaction

from incidents.services import incident_open_in_transaction
from opsportal.core.errors import DomainError

logger = logging.getLogger(__name__)


def on_verification_failed(verification: Any) -> None:
    """Open a SEV1 for the broken chain, opened by the system, in a savepoint: the
    failed verification is recorded whatever happens here."""
    try:
        with transaction.atomic():
            incident_open_in_transaction(
                actor=None,
                title=f"Audit trail verification failed at seq {verification.failed_seq}",
                severity="SEV1",
                summary=(
                    f"{verification.message}. The audit trail may have been altered; "
                    "preserve the database and the checkpoint files, do not repair."
                )[:2000],
                affected_systems="audit trail",
            )
    except (DomainError, DatabaseError) as exc:
        logger.error("incidents.audit_failure_incident_failed", extra={"error": repr(exc)})
