"""Celery tasks of the audit trail: the sealer, checkpoints, the daily verification
and exports. Each is safe to run twice. Periodic entries: CELERY_BEAT_SCHEDULE."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError

from opsportal.audit import chain, services
from opsportal.core.request_context import request_context

# audit_record queues one seal per burst of commits (see `queue_seal`).
SEAL_PENDING_KEY = "audit:seal-pending"


@shared_task(
    name="opsportal.audit.tasks.audit_seal_task",
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=1,
    soft_time_limit=60,
    time_limit=90,
)
def audit_seal_task() -> int:
    """Link committed events into the chain. The pending flag is cleared before the
    sealer reads, so an event committed after that queues another seal: none is
    missed (and the beat entry is the backstop)."""
    cache.delete(SEAL_PENDING_KEY)
    return chain.audit_seal()


@shared_task(
    name="opsportal.audit.tasks.audit_checkpoint_task",
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=5,
    soft_time_limit=120,
    time_limit=180,
)
def audit_checkpoint_task() -> int | None:
    cp = chain.checkpoint_create()
    return cp.pk if cp else None


@shared_task(
    name="opsportal.audit.tasks.audit_verify_task",
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=2,
    retry_backoff=60,
    soft_time_limit=3000,
    time_limit=3600,
)
def audit_verify_task() -> bool:
    """The daily verification: records its result, and on failure tells the
    registered listeners (incidents opens a SEV1). It never repairs anything."""
    with request_context(source="task"):
        return services.audit_verify_run(actor=None).ok


@shared_task(
    name="opsportal.audit.tasks.audit_export_build_task",
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=2,
    retry_backoff=30,
    soft_time_limit=1500,
    time_limit=1800,
)
def audit_export_build_task(export_id: int) -> str:
    # Imported here: exports imports this module to queue the task on commit.
    from opsportal.audit import exports

    with request_context(source="task"):
        return exports.audit_export_build(export_id=export_id)
