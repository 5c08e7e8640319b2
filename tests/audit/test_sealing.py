"""Queueing the sealer after commits (`services.queue_seal`), against the test Redis
and, for the end-to-end check, a real Celery worker on PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from opsportal.audit import chain, services
from opsportal.audit.models import AuditEvent
from opsportal.audit.services import audit_record
from opsportal.audit.tasks import SEAL_PENDING_KEY
from opsportal.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker(monkeypatch):
    """Tasks go to the test Redis instead of running in-process; the default queue
    and the pending flag start empty, and this process knows of no queued seal."""
    from django.core.cache import cache

    client = redis.Redis.from_url(settings.REDIS_URL)
    queue = app.conf.task_default_queue
    client.delete(queue)
    cache.delete(SEAL_PENDING_KEY)
    monkeypatch.setattr(services, "_seal_reads_after", 0.0)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield client, queue
    finally:
        app.conf.task_always_eager = eager
        client.delete(queue)
        cache.delete(SEAL_PENDING_KEY)


def commit_events(n: int, writer: int = 0) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(actor=None, event_type="user.changed", metadata={"w": writer, "i": i})


def test_a_burst_of_commits_queues_one_seal(broker):
    client, queue = broker

    commit_events(20)

    assert client.llen(queue) == 1


class CountingCache:
    """The real cache, counting the calls queue_seal makes to it."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def add(self, *args, **kwargs):
        self.calls.append("add")
        return self.real.add(*args, **kwargs)

    def get(self, *args, **kwargs):
        self.calls.append("get")
        return self.real.get(*args, **kwargs)


def test_a_burst_of_commits_calls_redis_once(broker, monkeypatch):
    counting = CountingCache(services.cache)
    monkeypatch.setattr(services, "cache", counting)

    commit_events(20)

    assert counting.calls == ["add"]


def test_a_seal_queued_by_another_process_is_joined_with_two_calls(broker, monkeypatch):
    client, queue = broker
    services.cache.add(SEAL_PENDING_KEY, time.time() + 0.5, timeout=5)  # another process's
    counting = CountingCache(services.cache)
    monkeypatch.setattr(services, "cache", counting)

    commit_events(20)

    assert counting.calls == ["add", "get"]
    assert client.llen(queue) == 0


def test_a_commit_after_the_queued_seal_started_queues_another(broker, settings):
    client, queue = broker
    settings.AUDIT_SEAL_DELAY_MS = 0  # the queued seal may start at once
    commit_events(1)
    # What the task does first when it starts: clear the flag, then read.
    from django.core.cache import cache

    cache.delete(SEAL_PENDING_KEY)
    time.sleep(services.SEAL_CLOCK_MARGIN_S)

    commit_events(1)

    assert client.llen(queue) == 2


@pytest.mark.concurrency
def test_a_real_worker_chains_every_committed_event_within_two_seconds(
    broker, celery_worker_process
):
    writers, per_writer = 4, 25

    def write(index: int) -> None:
        try:
            commit_events(per_writer, writer=index)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    last_commit = time.monotonic()
    while AuditEvent.objects.filter(seq__isnull=True).exists():
        assert time.monotonic() - last_commit < 2.0, "an event was not chained within 2 s"
        time.sleep(0.05)

    assert AuditEvent.objects.filter(seq__isnull=False).count() == writers * per_writer
    assert chain.verify_chain().ok
