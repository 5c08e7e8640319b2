import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.views.generic import TemplateView

from opsportal.audit.models import AuditEvent
from opsportal.core.web import PortalPermissionMixin


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/incidents/", "/drills/", "/environments/", "/admin/"])
def test_pages_require_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/schema/"])
def test_api_docs_require_authentication(client, path):
    assert client.get(path).status_code == 403


@pytest.mark.django_db
def test_login_page_signs_in_and_audits(client, users, password):
    response = client.post("/accounts/login/", {"username": "operator1", "password": password})

    assert response.status_code == 302
    assert AuditEvent.objects.filter(event_type="auth.login", actor=users["operator1"]).exists()


@pytest.mark.django_db
def test_failed_login_is_audited_with_the_username(client, users):
    client.post("/accounts/login/", {"username": "operator1", "password": "wrong"})

    event = AuditEvent.objects.get(event_type="auth.login_failed")
    assert event.metadata == {"username": "operator1"}


@pytest.mark.django_db
def test_view_without_permission_declaration_is_an_error(users):
    class Undeclared(PortalPermissionMixin, TemplateView):
        template_name = "dashboard.html"

    request = RequestFactory().get("/")
    request.user = users["admin"]

    with pytest.raises(ImproperlyConfigured):
        Undeclared.as_view()(request)


@pytest.mark.django_db
def test_request_id_is_echoed(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="abc-123")

    assert response["X-Request-ID"] == "abc-123"


@pytest.mark.django_db
def test_a_user_without_a_role_is_told_to_ask_an_admin(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="newcomer"))

    response = client.get("/")

    assert response.status_code == 403
    assert "no role yet" in response.content.decode()


@pytest.mark.django_db
def test_unknown_pages_answer_a_readable_404(client_for):
    response = client_for("operator1").get("/incidents/999999/")

    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_favicon_is_served_without_a_login_and_linked_from_every_page(client, users, client_for):
    icon = client.get("/favicon.ico")
    page = client_for("operator1").get("/").content.decode()

    assert (icon.status_code, icon["Content-Type"]) == (200, "image/x-icon")
    assert '<link rel="icon" href="/favicon.ico"' in page
