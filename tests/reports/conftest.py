from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from pypdf import PdfReader


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    """Each test's report files in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def pdf_text(data: bytes) -> str:
    """All the text of a PDF, pages joined, whitespace collapsed."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def report_worker(transactional_db, media_root):
    """`report_worker(pool="solo", pause=0)` starts a real Celery worker (Redis, the
    test database, this test's media root) and returns its process; tasks the test
    queues go to it, not in-process. Every worker started is stopped afterwards."""
    from django.conf import settings

    from opsportal.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.control.purge()
    started: list[subprocess.Popen] = []
    db = connection.settings_dict

    def start(*, pool: str = "solo", pause: int = 0) -> subprocess.Popen:
        hostname = f"reports-{uuid.uuid4().hex[:8]}@test"
        host = db["HOST"] or "127.0.0.1"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "opsportal.settings_test",
            "DATABASE_URL": f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "OPSPORTAL_MEDIA_ROOT": str(media_root),
            "OPSPORTAL_REPORTS_PAUSE_BEFORE_MOVE_SECONDS": str(pause),
        }
        args = [sys.executable, "-m", "celery", "-A", "opsportal", "worker", f"--pool={pool}"]
        args += ["--concurrency=1"] if pool == "prefork" else []
        args += ["--loglevel=WARNING", "--without-gossip", "--without-mingle", "-n", hostname]
        worker = subprocess.Popen(args, env=env, cwd=Path(__file__).resolve().parents[2])
        started.append(worker)
        deadline = time.monotonic() + 40
        while not app.control.ping(destination=[hostname], timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Celery worker did not start")
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        app.conf.task_always_eager = eager


def wait_for(predicate, *, timeout: float = 90, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def worker_children(worker: subprocess.Popen) -> list[int]:
    """The pool processes of a prefork worker (Linux /proc)."""
    path = Path(f"/proc/{worker.pid}/task/{worker.pid}/children")
    return [int(pid) for pid in path.read_text().split()]
