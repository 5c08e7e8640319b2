"""A real Celery worker and beat against Redis: the one beat entry fans out a check
per due source and the worker stores it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from opsportal.drift.models import ClockCheck
from opsportal.drift.tasks import drift_dispatch_due_task, drift_source_check_task
from tests.controls.factories import EnvironmentFactory
from tests.drift.factories import http_source


@pytest.fixture
def beat_process(celery_worker_process, tmp_path):
    from django.conf import settings

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsportal.settings_test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "opsportal",
            "beat",
            "--loglevel=WARNING",
            f"--pidfile={tmp_path / 'beat.pid'}",
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        yield beat
    finally:
        beat.terminate()
        try:
            beat.wait(timeout=15)
        except subprocess.TimeoutExpired:
            beat.kill()
            beat.wait()


@pytest.mark.django_db(transaction=True)
def test_beat_and_a_real_worker_store_a_check(time_server, beat_process):
    env = EnvironmentFactory(slug="paper")
    time_server.skew_ms = 1200
    source = http_source(time_server.url, env)

    deadline = time.monotonic() + 60
    while not ClockCheck.objects.filter(source=source).exists():
        assert beat_process.poll() is None, "beat exited"
        assert time.monotonic() < deadline, "no check stored within 60 s"
        time.sleep(0.5)

    assert ClockCheck.objects.get(source=source).status == "breach"


@pytest.mark.django_db
def test_a_due_source_is_queued_once_and_a_redelivered_task_does_nothing(time_server):
    # Eager Celery (settings_test): the dispatcher runs the check in-process.
    source = http_source(time_server.url, EnvironmentFactory(slug="paper"))

    assert drift_dispatch_due_task() == [source.pk]
    assert drift_dispatch_due_task() == []  # not due again until its interval passes
    source.refresh_from_db()
    queued_at = source.last_check_at.isoformat()
    assert drift_source_check_task(source.pk, queued_at).startswith("skipped")
    assert ClockCheck.objects.filter(source=source).count() == 1
