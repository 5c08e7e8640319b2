"""The portal's URLs plus `/bench/bare`: the baseline the gate is compared with."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from opsportal import api_urls
from opsportal.controls import api_urls as controls_api_urls
from opsportal.urls import urlpatterns as portal_urlpatterns

_BODY = {
    "decision": "ALLOW",
    "reason_code": "ALLOW_ALL_CHECKS_PASSED",
    "mode": "DRY_RUN",
    "kill_switch": "ACTIVE",
    "version": 1,
    "as_of": "2026-01-01T00:00:00.000Z",
    "valid_until": "2026-01-01T00:00:05.000Z",
}


@login_not_required
def bare(request: HttpRequest, slug: str) -> JsonResponse:
    """A bare Django JSON view: no database, no authentication, same-sized body."""
    return JsonResponse(_BODY)


# Resolved exactly like the gate: the portal's URLconf with the bare view added to
# the same include as the gate (opsportal.api_urls → opsportal.controls.api_urls),
# right after it. Placing it first in the URLconf would flatter the baseline.
_api_index = next(i for i, p in enumerate(portal_urlpatterns) if str(p.pattern) == "api/v1/")
_controls_api = [*controls_api_urls.urlpatterns, path("environments/<slug:slug>/bare", bare)]
assert api_urls.urlpatterns[0].urlconf_name.__name__ == "opsportal.controls.api_urls"
_api = [path("", include(_controls_api)), *api_urls.urlpatterns[1:]]
urlpatterns = [
    *portal_urlpatterns[:_api_index],
    path("api/v1/", include(_api)),
    *portal_urlpatterns[_api_index + 1 :],
]
