import json
import threading

import pytest
from django.core.management import call_command
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client

from opsportal.controls import services
from opsportal.controls.models import GateToken
from tests.controls.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(env, users):
    _, raw = services.gate_token_issue(name="engine-1", environment=env, actor=users["admin"])
    return raw


def gate(client, slug, raw):
    return client.get(f"/api/v1/environments/{slug}/gate", HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_gate_answers_allow_with_the_contract_fields_and_no_store(client, env, token):
    response = gate(client, "paper", token)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["decision"] == "ALLOW"
    assert (body["mode"], body["kill_switch"], body["version"]) == ("DRY_RUN", "ACTIVE", 1)
    assert body["as_of"] < body["valid_until"]
    assert set(body) == {
        "decision",
        "reason_code",
        "mode",
        "kill_switch",
        "version",
        "as_of",
        "valid_until",
    }


def test_gate_shows_a_trigger_on_the_very_next_read(client, env, token, users):
    assert gate(client, "paper", token).json()["decision"] == "ALLOW"

    services.kill_switch_trigger(environment=env, actor=users["operator1"], reason_code="drill")

    body = gate(client, "paper", token).json()
    assert (body["decision"], body["reason_code"], body["version"]) == (
        "HALT",
        "HALT_KILL_SWITCH",
        2,
    )


def test_gate_is_one_query(client, env, token, django_assert_max_num_queries):
    gate(client, "paper", token)  # first use writes last_used_at

    with django_assert_max_num_queries(1):
        assert gate(client, "paper", token).status_code == 200


def test_gate_without_token_is_401_halt(client, env):
    response = client.get("/api/v1/environments/paper/gate")

    assert response.status_code == 401
    assert response.json()["decision"] == "HALT"
    assert response["Cache-Control"] == "no-store"


def test_gate_with_revoked_token_is_401_halt(client, env, token, users):
    gate_token = GateToken.objects.get()
    services.gate_token_revoke(token_id=gate_token.pk, actor=users["admin"])

    response = gate(client, "paper", token)

    assert response.status_code == 401
    assert response.json()["decision"] == "HALT"


def test_gate_token_scoped_to_one_environment_cannot_read_another(client, env, token):
    EnvironmentFactory(slug="valr-live")

    assert gate(client, "valr-live", token).status_code == 401


def test_gate_token_for_all_environments_reads_each(client, env, users):
    EnvironmentFactory(slug="valr-live")
    _, raw = services.gate_token_issue(name="router", environment=None, actor=users["admin"])

    assert gate(client, "paper", raw).status_code == 200
    assert gate(client, "valr-live", raw).status_code == 200


def test_gate_unknown_environment_is_404_halt(client, env, token):
    response = gate(client, "nope", token)

    assert response.status_code == 404
    assert response.json()["decision"] == "HALT"


def test_gate_records_last_used(client, env, token):
    gate(client, "paper", token)

    assert GateToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    "path",
    ["/api/v1/environments/", "/api/v1/environments/paper/", "/api/v1/environments/paper/history"],
)
def test_gate_token_reads_nothing_but_the_gate(client, env, token, path):
    response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 403


def test_gate_token_cannot_trigger_the_kill_switch(client, env, token):
    response = client.post(
        "/api/v1/environments/paper/kill-switch/trigger",
        {"reason_code": "manual"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 403
    env.refresh_from_db()
    assert env.kill_switch == "ACTIVE"


def test_unknown_bearer_token_is_refused_on_people_api(client, env):
    response = client.get("/api/v1/environments/", HTTP_AUTHORIZATION="Bearer opsg_nope")

    # 403, not 401: SessionAuthentication comes first and sends no challenge header.
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "authentication_failed"


def test_gate_token_is_stored_hashed(env, token):
    stored = GateToken.objects.get()

    assert token not in (stored.token_sha256, stored.prefix)
    assert stored.token_sha256 == services.hash_token(token)


def test_issue_gate_token_command_prints_a_working_token_once(capsys, env):
    call_command("issue_gate_token", "--env", "paper", "--name", "engine-7")

    raw = capsys.readouterr().out.strip()
    response = Client().get("/api/v1/environments/paper/gate", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert GateToken.objects.get().name == "engine-7"


@pytest.mark.django_db(transaction=True)
def test_gate_answers_503_halt_when_the_database_is_unreachable(database_unreachable):
    response = Client().get(
        "/api/v1/environments/paper/gate", HTTP_AUTHORIZATION="Bearer opsg_whatever"
    )

    assert response.status_code == 503
    body = response.json()
    assert (body["decision"], body["reason_code"]) == ("HALT", "HALT_STATE_UNAVAILABLE")
    assert response["Cache-Control"] == "no-store"


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_gate_reads_concurrent_with_a_trigger_never_see_allow_after_commit(users):
    """Pollers in real threads; once the trigger's transaction has committed, no
    read may answer ALLOW."""
    env = EnvironmentFactory(slug="paper")
    _, raw = services.gate_token_issue(name="e", environment=env, actor=users["admin"])
    committed = threading.Event()
    stop = threading.Event()
    stale: list[dict] = []
    reads = [0]

    def poll() -> None:
        from django.db import connection

        client = Client()
        try:
            while not stop.is_set():
                after_commit = committed.is_set()
                body = gate(client, "paper", raw).json()
                reads[0] += 1
                if after_commit and body["decision"] != "HALT":
                    stale.append(body)
        finally:
            connection.close()

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for t in threads:
        t.start()
    services.kill_switch_trigger(environment=env, actor=users["operator1"], reason_code="drill")
    committed.set()
    for _ in range(200):
        if reads[0] > 100:
            break
        threading.Event().wait(0.01)
    stop.set()
    for t in threads:
        t.join(10)

    assert reads[0] > 0
    assert stale == []


def test_gate_query_is_prepared_once_per_connection(client, env, token):
    from django.db import connection

    gate(client, "paper", token)
    gate(client, "paper", token)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%controls_gatetoken%"],
        )
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db(transaction=True)
def test_gate_survives_a_broken_reused_connection_without_false_halt(users):
    """A reused connection that died (database restart) is dropped and the read
    retried on a fresh one: 200, not a spurious 503 HALT."""
    from django.db import connection

    env = EnvironmentFactory(slug="paper")
    _, raw = services.gate_token_issue(name="e", environment=env, actor=users["admin"])
    client = Client()
    assert gate(client, "paper", raw).status_code == 200
    connection.connection.close()  # the socket is gone; Django still holds the object

    response = gate(client, "paper", raw)

    assert response.status_code == 200
    assert response.json()["decision"] == "ALLOW"


def _events(response, count):
    """The first `count` `event: gate` payloads of an SSE response."""
    out, buffer = [], ""
    chunks = iter(response.streaming_content)
    while len(out) < count:
        chunk = next(chunks)
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            if block.startswith("event: gate"):
                out.append(json.loads(block.split("data: ", 1)[1]))
    return out


def test_gate_stream_sends_the_decision_then_the_change(client, env, token, users, settings):
    settings.OPSPORTAL_GATE_STREAM_SECONDS = 30
    response = client.get(
        "/api/v1/environments/paper/gate/stream", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-store"
    first = _events(response, 1)[0]

    services.kill_switch_trigger(environment=env, actor=users["operator1"], reason_code="drill")
    halted = _events(response, 1)[0]
    response.close()

    assert (first["decision"], first["version"]) == ("ALLOW", 1)
    assert (halted["decision"], halted["reason_code"], halted["version"]) == (
        "HALT",
        "HALT_KILL_SWITCH",
        2,
    )


def test_gate_stream_ends_with_halt_when_the_token_is_revoked(client, env, token, users):
    response = client.get(
        "/api/v1/environments/paper/gate/stream", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    _events(response, 1)

    services.gate_token_revoke(token_id=GateToken.objects.get().pk, actor=users["admin"])
    last = _events(response, 1)[0]

    assert (last["decision"], last["reason_code"]) == ("HALT", "HALT_UNAUTHENTICATED")


def test_gate_stream_without_token_is_401_halt(client, env):
    response = client.get("/api/v1/environments/paper/gate/stream")

    assert response.status_code == 401
    assert response.json()["decision"] == "HALT"


def test_gate_through_django_cursor_when_prepared_statements_are_off(
    client, env, token, users, settings
):
    settings.OPSPORTAL_GATE_PREPARED = False
    assert gate(client, "paper", token).json()["decision"] == "ALLOW"

    services.kill_switch_trigger(environment=env, actor=users["operator1"], reason_code="drill")

    assert gate(client, "paper", token).json()["decision"] == "HALT"
    assert gate(client, "nope", token).status_code == 404


def _close(response):
    """Close a stream as a WSGI server does (the test client's own way: without
    closing the test's database connection, which `request_finished` would)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def _stream(client, raw):
    return client.get("/api/v1/environments/paper/gate/stream", HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_gate_stream_beyond_the_per_token_limit_is_429_with_retry_after(
    client, env, token, settings
):
    settings.OPSPORTAL_GATE_STREAM_MAX_PER_TOKEN = 2
    open_streams = [_stream(client, token), _stream(client, token)]

    refused = _stream(client, token)
    for response in open_streams:
        _close(response)

    assert (refused.status_code, refused["Retry-After"]) == (429, "5")
    assert (refused.json()["decision"], refused.json()["error"]["code"]) == (
        "HALT",
        "too_many_streams",
    )


def test_gate_stream_beyond_the_global_limit_is_429_whatever_the_token(
    client, env, token, users, settings
):
    settings.OPSPORTAL_GATE_STREAM_MAX = 1
    _, other = services.gate_token_issue(name="engine-2", environment=env, actor=users["admin"])
    first = _stream(client, token)

    refused = _stream(client, other)
    _close(first)

    assert refused.status_code == 429


def test_gate_stream_closed_frees_its_place(client, env, token, settings):
    settings.OPSPORTAL_GATE_STREAM_MAX_PER_TOKEN = 1
    _close(_stream(client, token))

    again = _stream(client, token)
    _close(again)

    assert again.status_code == 200
