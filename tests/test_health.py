import pytest


@pytest.mark.django_db
def test_health_reports_database_redis_and_celery_without_login(client):
    response = client.get("/health")

    body = response.json()
    assert response.status_code == 200
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["redis"]["status"] == "up"
    # No Celery worker runs during this test, so the portal is degraded, not down.
    assert body["checks"]["celery"]["status"] == "down"
    assert body["status"] == "degraded"


@pytest.mark.django_db
def test_health_answers_503_unhealthy_when_database_is_unreachable(client, database_unreachable):
    response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert response.json()["checks"]["database"]["status"] == "down"


def test_health_is_healthy_when_a_real_celery_worker_answers(client, celery_worker_process):
    response = client.get("/health")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy"
    assert body["checks"]["celery"] == {
        "status": "up",
        "latency_ms": body["checks"]["celery"]["latency_ms"],
        "workers": 1,
    }
