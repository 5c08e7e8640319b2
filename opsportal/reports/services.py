"""Writes of the reports app: requesting a report, generating it (the Celery task's
one service) and recording a download.

Generation is safe to run twice and to be interrupted anywhere (docs/reports.md
"Idempotency"):

1. a short transaction locks the report; a finished report (done or failed) is left
   as it is, otherwise it is marked running and its attempt counted;
2. the document is built and rendered, and each file written under a temporary name;
3. a second transaction locks the report again; if another run finished it
   meanwhile, this run's temporaries are thrown away; otherwise the files are renamed
   into their fixed places, left-over temporaries removed, the files' SHA-256 and
   sizes stored and the report marked done, all while holding the lock.

So however many runs start, and wherever a worker is killed, the report ends with
exactly one file per format, and the stored hashes are those of the files on disk.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsportal.audit.services import audit_record, service_entry_point
from opsportal.core.errors import NotFound, NotPermitted
from opsportal.core.hashing import sha256_hex
from opsportal.reports import kinds, rendering, storage
from opsportal.reports.models import Report, ReportFile

logger = logging.getLogger(__name__)

REQUEST_PERMISSION = "reports.export_report"
VIEW_PERMISSION = "reports.view_report"


def request_key(kind: str, parameters: dict[str, Any]) -> str:
    return sha256_hex({"kind": kind, "parameters": parameters})


def _queue(report_id: int) -> None:
    # The task module imports this one; imported here to avoid the cycle.
    from opsportal.reports.tasks import report_generate_task  # noqa: PLC0415

    report_generate_task.delay(report_id)


@service_entry_point
def report_request(*, kind: str, parameters: dict[str, Any], actor: Any) -> Report:
    """Ask for a report of `kind` with `parameters` (raw input: validated and made
    canonical by the kind). `actor` None is the system (the monthly schedule).

    While a report for the same kind and parameters is queued or running, that report
    is returned and nothing new is queued. Otherwise a new report is created, audited
    as report.requested, and its generation queued after commit.

    Raises NotPermitted without reports.export_report, ValidationFailed / NotFound
    for bad parameters (the post-incident review kind is refused until reviews exist).
    """
    if actor is not None and not actor.has_perm(REQUEST_PERMISSION):
        raise NotPermitted("You may not request reports.", code="forbidden")
    spec = kinds.get_kind(kind)
    clean = spec.clean(dict(parameters))
    key = request_key(spec.kind, clean)
    with transaction.atomic(durable=True):
        pending = Report.objects.filter(request_key=key, state__in=["queued", "running"])
        existing = pending.select_for_update().first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    kind=spec.kind,
                    parameters=clean,
                    request_key=key,
                    title=spec.title(clean),
                    requested_by=actor,
                    requested_at=timezone.now(),
                )
        except IntegrityError:
            # A concurrent request for the same report committed first: that one.
            return pending.get()
        audit_record(
            actor=actor,
            event_type="report.requested",
            obj=report,
            after={"kind": report.kind, "parameters": clean, "state": report.state},
        )
        report_id = report.pk
        transaction.on_commit(lambda: _queue(report_id))
    return report


def _start(report_id: int) -> Report | None:
    """Phase 1: the report, marked running; None when there is nothing to do."""
    with transaction.atomic(durable=True):
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None or not report.is_pending:
            return None
        redelivered = report.state == Report.State.RUNNING
        report.start()
        report.started_at = timezone.now()
        report.attempts += 1
        report.save(update_fields=["state", "started_at", "attempts"])
        audit_record(
            actor=None,
            event_type="report.started",
            obj=report,
            metadata={"attempt": report.attempts, "redelivered": redelivered},
        )
        return report


def _fail(report_id: int, error: str) -> Report:
    with transaction.atomic(durable=True):
        report = Report.objects.select_for_update().get(pk=report_id)
        if not report.is_pending:
            return report
        report.fail()
        report.error = error[:2000]
        report.finished_at = timezone.now()
        report.save(update_fields=["state", "error", "finished_at"])
        audit_record(actor=None, event_type="report.failed", obj=report, metadata={"error": error})
        return report


def _finish(report_id: int, temporaries: dict[str, Path]) -> Report:
    """Phase 3, under the report's lock: move the files into place and mark done,
    unless another run already did."""
    with transaction.atomic(durable=True):
        report = Report.objects.select_for_update().get(pk=report_id)
        if not report.is_pending:
            for tmp in temporaries.values():
                tmp.unlink(missing_ok=True)
            return report
        now = timezone.now()
        stored = {
            fmt: storage.move_into_place(report.pk, fmt, tmp) for fmt, tmp in temporaries.items()
        }
        storage.discard_temporaries(report.pk)
        for fmt, file in stored.items():
            ReportFile.objects.update_or_create(
                report=report,
                format=fmt,
                defaults={
                    "path": file.path,
                    "sha256": file.sha256,
                    "size": file.size,
                    "created_at": now,
                },
            )
        report.finish()
        report.finished_at = now
        report.error = ""
        report.save(update_fields=["state", "finished_at", "error"])
        audit_record(
            actor=None,
            event_type="report.generated",
            obj=report,
            metadata={fmt: {"sha256": f.sha256, "size": f.size} for fmt, f in stored.items()},
        )
        return report


def report_generate(*, report_id: int) -> Report:
    """Generate report `report_id`'s files (the task's service; see the module
    docstring for why running it twice, or dying anywhere in it, leaves one set of
    files). Returns the report in its final state; NotFound for an unknown id."""
    report = _start(report_id)
    if report is None:
        current = Report.objects.filter(pk=report_id).first()
        if current is None:
            raise NotFound(f"No report #{report_id}.")
        return current
    try:
        document = kinds.get_kind(report.kind).build(report.parameters)
        rendered = rendering.render(document, report_id=report.pk)
        temporaries: dict[str, Path] = {
            ReportFile.Format.HTML: storage.write_temporary(report.pk, "html", rendered.html),
            ReportFile.Format.PDF: storage.write_temporary(report.pk, "pdf", rendered.pdf),
        }
        pause = settings.OPSPORTAL_REPORTS_PAUSE_BEFORE_MOVE_SECONDS
        if pause:
            time.sleep(pause)  # tests: a window in which to kill the worker
    except SoftTimeLimitExceeded:
        return _fail(report_id, "Generation took longer than its time limit.")
    except Exception as exc:
        logger.exception("report %s failed", report_id)
        return _fail(report_id, f"{type(exc).__name__}: {exc}")
    return _finish(report_id, temporaries)


@service_entry_point
def report_file_download(*, report: Report, fmt: str, actor: Any) -> ReportFile:
    """The stored file of `report` in `fmt`, audited as report.downloaded (who took
    which file with which hash). NotFound when the report has no such file yet."""
    if not actor.has_perm(VIEW_PERMISSION):
        raise NotPermitted("You may not read reports.", code="forbidden")
    file = report.files.filter(format=fmt).first()
    if file is None:
        raise NotFound(f"Report #{report.pk} has no {fmt.upper()} file yet.", field="format")
    with transaction.atomic(durable=True):
        audit_record(
            actor=actor,
            event_type="report.downloaded",
            obj=report,
            metadata={"format": fmt, "sha256": file.sha256, "size": file.size},
        )
    return file
